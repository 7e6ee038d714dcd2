#!/usr/bin/env bash
# The local stack: a single-node KRaft Kafka, Redis and PostgreSQL on loopback, state under
# $DUNNING_STATE_DIR (default <repo>/.state).
#
#   stack.sh up       install what is missing, start what is not running, wait until ready,
#                     create the topics of topics.conf; one line per component with its time
#   stack.sh down     stop the services (services.sh) and everything this script started
#   stack.sh status   up/down per component
#   stack.sh reset    down, then delete the stack's state (data, logs, pids)
#   stack.sh topics   metadata listing of the topics
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Another stack instance (deploy/local/cluster.sh) points DUNNING_STACK_ENV at its own ports.
source "${DUNNING_STACK_ENV:-$LOCAL_DIR/stack.env}"

KAFKA_DIR="$LOCAL_DIR/kafka"
KAFKA_STATE="$DUNNING_STATE_DIR/kafka"
KAFKA_PROPS="$KAFKA_STATE/server.properties"
REDIS_STATE="$DUNNING_STATE_DIR/redis"
# PostgreSQL runs as an unprivileged user, which must be able to reach its data folder: when a
# parent of the state folder is closed to others (a clone under /root, say), the data lives
# in a folder of its own under /var/tmp, named after the state folder.
others_can_traverse() {
  local dir="$1"
  while [[ "$dir" != "/" && -n "$dir" ]]; do
    if [[ -e "$dir" ]] && ! [[ "$(stat -c %A "$dir")" =~ ^d........x ]]; then return 1; fi
    dir="$(dirname "$dir")"
  done
}
if [[ -n "${DUNNING_PG_STATE_DIR:-}" ]]; then
  PG_STATE="$DUNNING_PG_STATE_DIR"
elif others_can_traverse "$DUNNING_STATE_DIR"; then
  PG_STATE="$DUNNING_STATE_DIR/postgres"
else
  PG_STATE="/var/tmp/dunning-pg-$(printf %s "$DUNNING_STATE_DIR" | sha1sum | cut -c1-10)"
fi
PG_DATA="$PG_STATE/data"
PG_RUN="$PG_STATE/run"

# Words that identify our processes in /proc/<pid>/cmdline (see pid_alive).
KAFKA_WORD="$KAFKA_PROPS"
REDIS_WORD="redis-server"
PG_WORD="$PG_DATA"

# Installation: install.sh (install_missing, pg_bindir, redis_bin)
source "$LOCAL_DIR/install.sh"

# ---------------------------------------------------------------------------------------------
# Kafka

KAFKA_HEAP=(-Xms512m -Xmx1g)
KAFKA_JVM_OPTS=(-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
  -Djava.awt.headless=true)

# Kafka's Uuid: 16 random bytes, base64url without padding (22 characters); Kafka itself never
# hands out one starting with "-", which a command line would take for an option.
new_cluster_id() {
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "$id" != -* ]] && { echo "$id"; return 0; }
  done
}

# kafka_format <cluster id file> <server.properties> [StorageTool option...]: the storage of
# a broker formatted (once: --ignore-formatted), under the cluster id kept in the file.
kafka_format() {
  local id_file="$1" props="$2"
  shift 2
  [[ -s "$id_file" ]] || new_cluster_id >"$id_file"
  quietly java -Xmx256m "${KAFKA_JVM_OPTS[@]}" -cp "$KAFKA_DIR/lib/*" \
    -Dlog4j2.configurationFile="$KAFKA_DIR/tools-log4j2.properties" \
    kafka.tools.StorageTool format "$@" --ignore-formatted -t "$(<"$id_file")" -c "$props"
}

# kafka_launch <server.properties> <log dir> <name> <pid name> <heap option...>: a broker
# started in its own session, its stdout in $LOG_DIR/<name>-stdout.log, its pid in
# $PID_DIR/<pid name>.pid.
kafka_launch() {
  local props="$1" logs="$2" name="$3" pid_name="$4"
  shift 4
  setsid java "$@" "${KAFKA_JVM_OPTS[@]}" \
    -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" -Dkafka.logs.dir="$logs" \
    -cp "$KAFKA_DIR/lib/*" kafka.Kafka "$props" \
    >>"$LOG_DIR/$name-stdout.log" 2>&1 </dev/null 9>&- &
  echo $! >"$PID_DIR/$pid_name.pid"
}

kafka_start() {
  mkdir -p "$KAFKA_STATE/data"
  sed "s|@STATE_DIR@|$DUNNING_STATE_DIR|g" "$KAFKA_DIR/server.properties" >"$KAFKA_PROPS"
  if [[ ! -f "$KAFKA_STATE/data/meta.properties" ]]; then
    kafka_format "$KAFKA_STATE/cluster.id" "$KAFKA_PROPS" --standalone ||
      die "formatting Kafka storage failed"
    KAFKA_NOTE="formatted, "
  fi
  kafka_launch "$KAFKA_PROPS" "$LOG_DIR" kafka kafka "${KAFKA_HEAP[@]}"
}

kafka_admin() {
  # shellcheck disable=SC2046
  $(uv_cmd) run --quiet --script "$LOCAL_DIR/kafka_admin.py" "$@" --bootstrap "127.0.0.1:$KAFKA_PORT"
}

kafka_ready() {
  local pid="$1" changes
  wait_port kafka "$pid" "$KAFKA_PORT" 90 "$LOG_DIR/kafka.log" || return 1
  changes="$(kafka_admin ensure --verbose --timeout 60 --topics "$LOCAL_DIR/topics.conf")" || {
    show_log_tail "$LOG_DIR/kafka.log"
    return 1
  }
  local created
  created="$(grep -c '^created ' <<<"$changes" || true)"
  ((created > 0)) && KAFKA_NOTE+="$created topics created, "
  return 0
}

# ---------------------------------------------------------------------------------------------
# Redis

redis_start() {
  mkdir -p "$REDIS_STATE"
  sed "s|@STATE_DIR@|$DUNNING_STATE_DIR|g" "$LOCAL_DIR/redis.conf" >"$REDIS_STATE/redis.conf"
  setsid "$(redis_bin)" "$REDIS_STATE/redis.conf" --port "$REDIS_PORT" >>"$LOG_DIR/redis.log" 2>&1 </dev/null 9>&- &
  echo $! >"$PID_DIR/redis.pid"
}

redis_ping() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 1 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "PING\r\n" >&3
    read -r reply <&3 && [[ "$reply" == "+PONG"* ]]
  ' _ "$REDIS_PORT" 2>/dev/null
}

redis_ready() {
  local pid="$1" i
  for ((i = 0; i < 200; i++)); do
    redis_ping && return 0
    proc_running "$pid" || break
    sleep 0.1
  done
  echo "error: redis did not answer PING on $REDIS_PORT" >&2
  show_log_tail "$LOG_DIR/redis.log"
  return 1
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL (refuses to run as root: it runs as the `postgres` system user, or `dunning`)

pg_user() {
  if id -u postgres >/dev/null 2>&1; then
    echo postgres
  else
    id -u dunning >/dev/null 2>&1 ||
      useradd --system --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin dunning
    echo dunning
  fi
}

as_pg_user() {
  (cd "$PG_STATE" && exec setpriv --reuid="$PG_OS_USER" --regid="$(id -g "$PG_OS_USER")" \
    --init-groups -- "$@")
}

postgres_start() {
  PG_OS_USER="$(pg_user)"
  mkdir -p "$PG_DATA" "$PG_RUN"
  chown "$PG_OS_USER:" "$PG_STATE" "$PG_DATA" "$PG_RUN"
  chmod 700 "$PG_DATA" "$PG_RUN"
  as_pg_user test -w "$PG_DATA" ||
    die "user $PG_OS_USER cannot reach $PG_DATA: a parent folder is closed to it; set DUNNING_STATE_DIR elsewhere"
  PG_BIN="$(pg_bindir)"
  if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    quietly as_pg_user "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 || die "initdb failed"
    PG_NOTE="initialised, "
  fi
  touch "$LOG_DIR/postgres.log"
  (cd "$PG_STATE" && exec setsid setpriv --reuid="$PG_OS_USER" --regid="$(id -g "$PG_OS_USER")" \
    --init-groups -- "$PG_BIN/postgres" -D "$PG_DATA" \
    -c port="$PG_PORT" -c listen_addresses=127.0.0.1 -c unix_socket_directories="$PG_RUN" \
    -c max_connections=200 -c log_line_prefix='%m [%p] %q%u@%d ' \
    >>"$LOG_DIR/postgres.log" 2>&1 </dev/null 9>&-) &
  echo $! >"$PID_DIR/postgres.pid"
}

pg_ready() {
  local pid="$1" i
  PG_BIN="$(pg_bindir)"
  for ((i = 0; i < 600; i++)); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break
    proc_running "$pid" || { i=600; break; }
    sleep 0.1
  done
  if ((i >= 600)); then
    echo "error: postgres did not accept connections on $PG_PORT" >&2
    show_log_tail "$LOG_DIR/postgres.log"
    return 1
  fi
  # Role and database, every time: cheap, and repairs a half-finished first run.
  quietly "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$PG_PORT" -U postgres \
    -d postgres <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dunning') THEN
    CREATE ROLE dunning LOGIN CREATEDB PASSWORD 'dunning';
  ELSE
    ALTER ROLE dunning LOGIN CREATEDB;
  END IF;
END
$$;
-- DROP DATABASE ... WITH (FORCE) (tests, demo) must be able to end an autovacuum worker
-- that happens to be in the database; without this it fails now and then.
GRANT pg_signal_backend TO dunning;
SELECT 'CREATE DATABASE dunning OWNER dunning'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'dunning')\gexec
SQL
}

# ---------------------------------------------------------------------------------------------
# Generic start/wait

# wait_port <name> <pid> <port> <timeout_s> <log>
wait_port() {
  local name="$1" pid="$2" port="$3" timeout_s="$4" log="$5" i
  for ((i = 0; i < timeout_s * 10; i++)); do
    port_open "$port" && return 0
    if ! proc_running "$pid"; then
      echo "error: $name exited during start" >&2
      show_log_tail "$log"
      show_log_tail "$LOG_DIR/$name-stdout.log"
      return 1
    fi
    sleep 0.1
  done
  echo "error: $name did not open port $port within ${timeout_s}s" >&2
  show_log_tail "$log"
  return 1
}

# ensure_started <name> <word> <port...>: starts the component unless our process already runs;
# refuses when another program holds its port.
declare -A STARTED_AT=() HOW=()
ensure_started() {
  local name="$1" word="$2" port
  shift 2
  STARTED_AT[$name]="$(now_ms)"
  if read_pid "$name" "$word" >/dev/null; then
    HOW[$name]="already running"
    return 0
  fi
  for port in "$@"; do
    port_open "$port" && die "$name: port $port is taken by a process this stack did not start"
  done
  "${name}_start"
  HOW[$name]="started"
}

report() {
  printf '%-9s ready in %6s  (%s)\n' "$1" "$(elapsed_since "${STARTED_AT[$1]}")" "$2"
}

# ---------------------------------------------------------------------------------------------
# Commands

# One stack command at a time. Every process started below closes fd 9 (`9>&-`), or it would
# hold the lock for as long as it runs.
lock() {
  mkdir -p "$DUNNING_STATE_DIR"
  exec 9>"$DUNNING_STATE_DIR/.stack.lock"
  flock 9
}

# Redis and PostgreSQL started unless running, then waited for: one line each.
start_stores() {
  PG_NOTE=""
  ensure_started redis "$REDIS_WORD" "$REDIS_PORT"
  redis_ready "$(<"$PID_DIR/redis.pid")" || die "redis is not ready"
  report redis "${HOW[redis]}"
  ensure_started postgres "$PG_WORD" "$PG_PORT"
  pg_ready "$(<"$PID_DIR/postgres.pid")" || die "postgres is not ready"
  report postgres "$PG_NOTE${HOW[postgres]}"
}

cmd_up() {
  lock
  mkdir -p "$LOG_DIR" "$PID_DIR"
  local t0
  t0="$(now_ms)"
  INSTALL_NOTE=""
  install_missing
  printf '%-9s done in  %6s  (%s)\n' install "$(elapsed_since "$t0")" "$INSTALL_NOTE"

  KAFKA_NOTE=""
  # Kafka first: its JVM boots while Redis and PostgreSQL start.
  ensure_started kafka "$KAFKA_WORD" "$KAFKA_PORT" "$CONTROLLER_PORT"
  start_stores
  kafka_ready "$(<"$PID_DIR/kafka.pid")" || die "kafka is not ready"
  report kafka "$KAFKA_NOTE${HOW[kafka]}"
}

stop_all() {
  if compgen -G "$PID_DIR/*.service" >/dev/null; then
    "$LOCAL_DIR/services.sh" stop
  fi
  local t0
  t0="$(now_ms)"
  # In parallel: Kafka's controlled shutdown takes a few seconds on its own.
  stop_pid kafka "$KAFKA_WORD" 30 TERM &
  stop_pid redis "$REDIS_WORD" 10 TERM &
  # SIGINT is PostgreSQL's "fast" shutdown: it does not wait for clients to disconnect.
  stop_pid postgres "$PG_WORD" 30 INT &
  wait
  printf '%-9s done in %6s\n' down "$(elapsed_since "$t0")"
}

cmd_down() {
  lock
  mkdir -p "$PID_DIR"
  stop_all
}

cmd_reset() {
  lock
  mkdir -p "$PID_DIR"
  stop_all
  rm -rf "$KAFKA_STATE" "$REDIS_STATE" "$PG_STATE" "$LOG_DIR" "$PID_DIR"
  echo "reset     state deleted under $DUNNING_STATE_DIR"
}

status_line() {
  local name="$1" word="$2" pidname="$3" port="$4" pid
  if pid="$(read_pid "$pidname" "$word")"; then
    if port_open "$port"; then
      printf '%-9s up        pid %-8s 127.0.0.1:%s\n' "$name" "$pid" "$port"
    else
      printf '%-9s starting  pid %-8s 127.0.0.1:%s not open yet\n' "$name" "$pid" "$port"
    fi
    return 0
  fi
  if port_open "$port"; then
    printf '%-9s foreign   port %s is held by a process this stack did not start\n' "$name" "$port"
  else
    printf '%-9s down\n' "$name"
  fi
  return 1
}

cmd_status() {
  local rc=0
  status_line kafka "$KAFKA_WORD" kafka "$KAFKA_PORT" || rc=1
  status_line redis "$REDIS_WORD" redis "$REDIS_PORT" || rc=1
  status_line postgres "$PG_WORD" postgres "$PG_PORT" || rc=1
  return "$rc"
}

cmd_topics() {
  kafka_admin describe --timeout 5 "$@"
}

# Sourced (by cluster.sh, for its Redis, PostgreSQL and helpers): define, run nothing.
[[ "${BASH_SOURCE[0]}" != "$0" ]] && return 0

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  reset) cmd_reset ;;
  status) cmd_status ;;
  topics) shift; cmd_topics "$@" ;;
  *)
    sed -n '2,11s/^# \{0,1\}//p' "$0" >&2
    exit 2
    ;;
esac
