#!/usr/bin/env bash
# The chaos stack: a three-broker KRaft Kafka cluster (every node broker + controller, static
# quorum of three voters, replication factor 3, min.insync.replicas 2), Redis and PostgreSQL on
# loopback, on the ports of cluster.env, state under $DUNNING_STATE_DIR (default
# <repo>/.state-chaos). A separate instance: it never touches the local stack (stack.sh).
#
#   cluster.sh up                  install what is missing, start what is not running, wait,
#                                  create the topics of topics.conf (RF 3)
#   cluster.sh down                stop everything this script started
#   cluster.sh reset               down, then delete the state
#   cluster.sh status              up/down per component
#   cluster.sh topics [PREFIX]     create topics.conf's topics (RF 3) under PREFIX
#   cluster.sh kill-broker N       kill -9 broker N (1..3)
#   cluster.sh start-broker N      start broker N again and wait for its port
#   cluster.sh redis-flush-restart [S]  FLUSHALL, kill -9, start again after S seconds (0)
#   cluster.sh pg-restart [S]      fast shutdown of PostgreSQL, start again after S seconds (0)
set -euo pipefail
LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DUNNING_STATE_DIR="${DUNNING_STATE_DIR:-$(cd "$LOCAL_DIR/../.." && pwd)/.state-chaos}"
export DUNNING_STACK_ENV="$LOCAL_DIR/cluster.env"
# stack.sh, sourced, brings lib.sh, the installation, Redis and PostgreSQL on cluster.env's ports.
source "$LOCAL_DIR/stack.sh"

CLUSTER_KAFKA_HEAP=(-Xms256m -Xmx768m)

broker_port() { echo $((KAFKA_PORT + 100 * ($1 - 1))); }
controller_port() { echo $((CONTROLLER_PORT + 100 * ($1 - 1))); }
broker_state() { echo "$DUNNING_STATE_DIR/kafka-$1"; }
broker_word() { echo "$(broker_state "$1")/server.properties"; }

bootstrap() {
  local n list=()
  for ((n = 1; n <= KAFKA_BROKERS; n++)); do list+=("127.0.0.1:$(broker_port "$n")"); done
  local IFS=,
  echo "${list[*]}"
}

voters() {
  local n list=()
  for ((n = 1; n <= KAFKA_BROKERS; n++)); do list+=("$n@127.0.0.1:$(controller_port "$n")"); done
  local IFS=,
  echo "${list[*]}"
}

broker_properties() {
  local n="$1"
  cat <<EOF
# Written by deploy/local/cluster.sh: node $n of the chaos cluster.
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$(voters)
listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n"),CONTROLLER://127.0.0.1:$(controller_port "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$(broker_state "$n")/data
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=$KAFKA_BROKERS
min.insync.replicas=2
offsets.topic.replication.factor=$KAFKA_BROKERS
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=$KAFKA_BROKERS
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=6
share.coordinator.state.topic.replication.factor=$KAFKA_BROKERS
share.coordinator.state.topic.min.isr=2
share.coordinator.state.topic.num.partitions=6
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
log.segment.bytes=16777216
log.cleaner.dedupe.buffer.size=16777216
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
EOF
}

broker_start() {
  local n="$1" dir
  dir="$(broker_state "$n")"
  mkdir -p "$dir/data"
  broker_properties "$n" >"$dir/server.properties"
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    kafka_format "$DUNNING_STATE_DIR/kafka-cluster.id" "$dir/server.properties" ||
      die "formatting broker $n's storage failed"
  fi
  mkdir -p "$LOG_DIR/kafka-$n"
  kafka_launch "$dir/server.properties" "$LOG_DIR/kafka-$n" "kafka-$n" "kafka$n" "${CLUSTER_KAFKA_HEAP[@]}"
}

# ensure_broker <n>: started unless already running; refuses a port held by someone else.
ensure_broker() {
  local n="$1" port
  read_pid "kafka$n" "$(broker_word "$n")" >/dev/null && return 0
  for port in "$(broker_port "$n")" "$(controller_port "$n")"; do
    port_open "$port" && die "kafka$n: port $port is taken by a process this script did not start"
  done
  broker_start "$n"
}

wait_broker() {
  local n="$1"
  wait_port "kafka$n" "$(<"$PID_DIR/kafka$n.pid")" "$(broker_port "$n")" 120 "$LOG_DIR/kafka-$n/server.log"
}

cluster_topics() {
  # shellcheck disable=SC2046
  $(uv_cmd) run --quiet --script "$LOCAL_DIR/kafka_admin.py" ensure --timeout 120 \
    --topics "$LOCAL_DIR/topics.conf" --replication-factor "$KAFKA_BROKERS" \
    --prefix "${1:-}" --bootstrap "$(bootstrap)"
}

cluster_up() {
  lock
  mkdir -p "$LOG_DIR" "$PID_DIR"
  local t0 n
  t0="$(now_ms)"
  INSTALL_NOTE=""
  install_missing
  printf '%-9s done in  %6s  (%s)\n' install "$(elapsed_since "$t0")" "$INSTALL_NOTE"
  t0="$(now_ms)"
  for ((n = 1; n <= KAFKA_BROKERS; n++)); do ensure_broker "$n"; done
  start_stores
  for ((n = 1; n <= KAFKA_BROKERS; n++)); do wait_broker "$n" || die "kafka$n is not ready"; done
  cluster_topics "" || die "topics could not be created"
  printf '%-9s ready in %6s  (%s brokers: %s)\n' kafka "$(elapsed_since "$t0")" "$KAFKA_BROKERS" "$(bootstrap)"
}

cluster_stop() {
  local n
  for ((n = 1; n <= KAFKA_BROKERS; n++)); do stop_pid "kafka$n" "$(broker_word "$n")" 30 TERM & done
  stop_pid redis "$REDIS_WORD" 10 TERM &
  stop_pid postgres "$PG_WORD" 30 INT &
  wait
}

cluster_status() {
  local rc=0 n
  for ((n = 1; n <= KAFKA_BROKERS; n++)); do
    status_line "kafka$n" "$(broker_word "$n")" "kafka$n" "$(broker_port "$n")" || rc=1
  done
  status_line redis "$REDIS_WORD" redis "$REDIS_PORT" || rc=1
  status_line postgres "$PG_WORD" postgres "$PG_PORT" || rc=1
  return "$rc"
}

broker_arg() {
  [[ "${1:-}" =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= KAFKA_BROKERS)) || die "broker number 1..$KAFKA_BROKERS expected"
  echo "$1"
}

kill_broker() {
  local n pid
  n="$(broker_arg "${1:-}")"
  pid="$(read_pid "kafka$n" "$(broker_word "$n")")" || { echo "kafka$n is not running"; return 0; }
  kill -KILL "$pid"
  while pid_alive "$pid" "$(broker_word "$n")"; do sleep 0.1; done
  rm -f "$PID_DIR/kafka$n.pid"
}

start_broker() {
  local n
  n="$(broker_arg "${1:-}")"
  mkdir -p "$LOG_DIR" "$PID_DIR"
  ensure_broker "$n"
  wait_broker "$n"
}

redis_command() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "%s\r\n" "$2" >&3
    read -r reply <&3 && echo "$reply"
  ' _ "$REDIS_PORT" "$1"
}

redis_flush_restart() {
  local pid
  redis_command FLUSHALL >/dev/null || true
  if pid="$(read_pid redis "$REDIS_WORD")"; then
    kill -KILL "$pid"
    while pid_alive "$pid" "$REDIS_WORD"; do sleep 0.1; done
    rm -f "$PID_DIR/redis.pid"
  fi
  sleep "${1:-0}"
  redis_start
  redis_ready "$(<"$PID_DIR/redis.pid")"
}

pg_restart() {
  stop_pid postgres "$PG_WORD" 30 INT
  sleep "${1:-0}"
  postgres_start
  pg_ready "$(<"$PID_DIR/postgres.pid")"
}

case "${1:-}" in
  up) cluster_up ;;
  down) lock; mkdir -p "$PID_DIR"; cluster_stop ;;
  reset)
    lock
    mkdir -p "$PID_DIR"
    cluster_stop
    rm -rf "$DUNNING_STATE_DIR"/kafka-* "$REDIS_STATE" "$PG_STATE" "$LOG_DIR" "$PID_DIR"
    echo "reset     state deleted under $DUNNING_STATE_DIR"
    ;;
  status) cluster_status ;;
  bootstrap) bootstrap ;;
  topics) cluster_topics "${2:-}" ;;
  kill-broker) kill_broker "${2:-}" ;;
  start-broker) start_broker "${2:-}" ;;
  redis-flush-restart) redis_flush_restart "${2:-0}" ;;
  pg-restart) pg_restart "${2:-0}" ;;
  *)
    sed -n '2,16s/^# \{0,1\}//p' "$0" >&2
    exit 2
    ;;
esac
