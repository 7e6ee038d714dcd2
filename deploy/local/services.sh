#!/usr/bin/env bash
# Runs the services of services.conf as background processes on this machine.
#
#   services.sh start [name...]   start (all, or the named ones) and wait for GET /health == 200
#   services.sh stop [name...]    stop by process group (all started ones, or the named ones)
#   services.sh status            up/down and health per service
#
# services.conf lines: `name port command...` (the command runs through bash from the repository
# root with deploy/local/env.sh sourced). DUNNING_SERVICES_CONF points at another file;
# DUNNING_SERVICE_TIMEOUT changes the 60 s health wait. Logs: $DUNNING_STATE_DIR/logs/<name>.log;
# pid files: $DUNNING_STATE_DIR/pids/<name>.pid (+ <name>.service holding the port).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONF="${DUNNING_SERVICES_CONF:-$LOCAL_DIR/services.conf}"
TIMEOUT_S="${DUNNING_SERVICE_TIMEOUT:-60}"

declare -a NAMES=()
declare -A PORT=() CMD=()

load_conf() {
  [[ -f "$CONF" ]] || die "no services file $CONF"
  local line name port cmd
  while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line%%#*}"
    [[ "$line" =~ ^[[:space:]]*$ ]] && continue
    read -r name port cmd <<<"$line"
    [[ "$name" =~ ^[a-z0-9][a-z0-9_-]*$ ]] || die "$CONF: bad service name '$name'"
    [[ "$port" =~ ^[0-9]+$ ]] || die "$CONF: bad port '$port' for $name"
    [[ -n "$cmd" ]] || die "$CONF: no command for $name"
    NAMES+=("$name")
    PORT[$name]="$port"
    CMD[$name]="$cmd"
  done <"$CONF"
}

# A service is ours while its process group lives and, if the leader still runs, the leader
# carries our marker in its environment (a recycled pid is somebody else's).
service_pid() {
  local name="$1" file="$PID_DIR/$1.pid" pid env
  [[ -f "$file" ]] || return 1
  pid="$(<"$file")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && group_alive "$pid"; then
    if ! proc_running "$pid"; then
      echo "$pid" # the leader is gone, its children still run
      return 0
    fi
    env="$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null || true)"
    if [[ $'\n'"$env"$'\n' == *$'\n'"DUNNING_SERVICE=$name"$'\n'* ]]; then
      echo "$pid"
      return 0
    fi
  fi
  rm -f "$file" "$PID_DIR/$name.service"
  return 1
}

# While a service starts, its pid may not have reached setsid or exec yet: neither its group
# nor its marker can be checked, only that the process (or, later, its group) still runs.
launched_alive() {
  local pid
  pid="$(<"$PID_DIR/$1.pid")" 2>/dev/null || return 1
  proc_running "$pid" || group_alive "$pid"
}

launch() {
  local name="$1"
  : >>"$LOG_DIR/$name.log"
  printf '\n=== %s start %s: %s\n' "$(date -u +%FT%TZ)" "$name" "${CMD[$name]}" >>"$LOG_DIR/$name.log"
  # setsid: the service leads its own process group, so stop reaches its children too
  # (`uv run` starts python as a child).
  (
    cd "$REPO_DIR"
    source "$LOCAL_DIR/env.sh"
    export DUNNING_SERVICE="$name" PYTHONUNBUFFERED=1
    exec setsid bash -c "${CMD[$name]}"
  ) >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$PID_DIR/$name.pid"
  echo "${PORT[$name]}" >"$PID_DIR/$name.service"
}

stop_one() {
  local name="$1" pid i
  pid="$(service_pid "$name")" || { rm -f "$PID_DIR/$name.service"; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    group_alive "$pid" || break
    sleep 0.1
  done
  if group_alive "$pid"; then
    echo "warning: $name ignored SIGTERM for 10s; killing its process group" >&2
    kill -KILL -- "-$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      group_alive "$pid" || break
      sleep 0.1
    done
  fi
  rm -f "$PID_DIR/$name.pid" "$PID_DIR/$name.service"
}

selected() {
  local name
  if (($# == 0)); then
    printf '%s\n' "${NAMES[@]}"
    return 0
  fi
  for name in "$@"; do
    [[ -n "${PORT[$name]:-}" ]] || die "unknown service '$name' (not in $CONF)"
    echo "$name"
  done
}

cmd_start() {
  load_conf
  mkdir -p "$LOG_DIR" "$PID_DIR"
  local name names=() pending=() t0 failed=""
  declare -A HOW=()
  mapfile -t names < <(selected "$@")
  t0="$(now_ms)"
  for name in "${names[@]}"; do
    if service_pid "$name" >/dev/null; then
      HOW[$name]="already running"
    else
      port_open "${PORT[$name]}" &&
        die "$name: port ${PORT[$name]} is taken by a process this launcher did not start"
      launch "$name"
      HOW[$name]="started"
    fi
    pending+=("$name")
  done

  local deadline=$(($(now_ms) + TIMEOUT_S * 1000)) still
  while ((${#pending[@]})); do
    still=()
    for name in "${pending[@]}"; do
      if [[ "$(http_status "${PORT[$name]}" /health)" == 200 ]]; then
        printf '%-9s healthy in %6s  (%s, pid %s, 127.0.0.1:%s)\n' "$name" \
          "$(elapsed_since "$t0")" "${HOW[$name]}" "$(<"$PID_DIR/$name.pid")" "${PORT[$name]}"
      elif ! launched_alive "$name"; then
        echo "error: $name exited before answering /health on ${PORT[$name]}" >&2
        show_log_tail "$LOG_DIR/$name.log"
        stop_one "$name"
        failed=1
      elif (($(now_ms) > deadline)); then
        echo "error: $name gave no 200 on http://127.0.0.1:${PORT[$name]}/health in ${TIMEOUT_S}s" >&2
        show_log_tail "$LOG_DIR/$name.log"
        stop_one "$name"
        failed=1
      else
        still+=("$name")
      fi
    done
    pending=("${still[@]}")
    ((${#pending[@]})) && sleep 0.2
  done
  [[ -z "$failed" ]]
}

cmd_stop() {
  local name names=()
  if (($#)); then
    names=("$@")
  else
    for name in "$PID_DIR"/*.service; do
      [[ -e "$name" ]] && names+=("$(basename "$name" .service)")
    done
  fi
  for name in "${names[@]}"; do
    stop_one "$name" &
  done
  wait
}

cmd_status() {
  load_conf
  local name pid code rc=0
  for name in "${NAMES[@]}"; do
    if pid="$(service_pid "$name")"; then
      code="$(http_status "${PORT[$name]}" /health || true)"
      printf '%-9s up        pid %-8s 127.0.0.1:%s  /health %s\n' "$name" "$pid" "${PORT[$name]}" \
        "${code:-no answer}"
    else
      printf '%-9s down\n' "$name"
      rc=1
    fi
  done
  return "$rc"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) cmd_status ;;
  *)
    sed -n '2,12s/^# \{0,1\}//p' "$0" >&2
    exit 2
    ;;
esac
