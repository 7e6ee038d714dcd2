# shellcheck shell=bash
# Helpers shared by the local-stack scripts (sourced, never run).
#
# Processes are tracked by pid files under $DUNNING_STATE_DIR/pids; a pid counts as ours only
# while /proc/<pid>/cmdline still contains the word we started it with, so a recycled pid is
# never signalled. Only bash builtins, coreutils and util-linux are used: a fresh Debian
# container may lack ps, ss and curl.

LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$LOCAL_DIR/../.." && pwd)"
export DUNNING_STATE_DIR="${DUNNING_STATE_DIR:-$REPO_DIR/.state}"
# shellcheck disable=SC2034 # used by the scripts that source this file
LOG_DIR="$DUNNING_STATE_DIR/logs"
PID_DIR="$DUNNING_STATE_DIR/pids"

die() {
  echo "error: $*" >&2
  exit 1
}

now_ms() {
  local t="${EPOCHREALTIME/./}"
  echo "$((t / 1000))"
}

# Seconds elapsed since a now_ms value, with one decimal.
elapsed_since() {
  local ms=$(($(now_ms) - $1))
  printf '%d.%01ds' "$((ms / 1000))" "$(((ms % 1000) / 100))"
}

# Runs a command with its output captured; shows the output only when it fails.
quietly() {
  local out rc=0
  out="$(mktemp)"
  "$@" >"$out" 2>&1 || rc=$?
  if ((rc != 0)); then
    echo "error: '$*' failed (exit $rc):" >&2
    tail -n 40 "$out" >&2
  fi
  rm -f "$out"
  return "$rc"
}

port_open() {
  timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# pid_alive <pid> <word>: the process exists and its command line contains <word>.
pid_alive() {
  local pid="$1" word="$2" cmdline
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$word"* ]]
}

# proc_running <pid>: the process exists and is no zombie. Used while waiting for a process we
# just launched: until its exec it still carries the launching shell's command line.
proc_running() {
  local line state
  read -r line 2>/dev/null <"/proc/$1/stat" || return 1
  line="${line##*) }"
  state="${line%% *}"
  [[ "$state" != Z ]]
}

# read_pid <name> <word>: prints the pid of our live process <name>, or fails (and drops a
# stale pid file).
read_pid() {
  local file="$PID_DIR/$1.pid" pid
  [[ -f "$file" ]] || return 1
  pid="$(<"$file")"
  if pid_alive "$pid" "$2"; then
    echo "$pid"
    return 0
  fi
  rm -f "$file"
  return 1
}

# stop_pid <name> <word> <timeout_s> <signal> [group]: sends <signal> (to the whole process
# group when the fifth argument is "group"), waits until it is gone, then SIGKILLs what is left.
stop_pid() {
  local name="$1" word="$2" timeout_s="$3" sig="$4" mode="${5:-}" pid target i
  pid="$(read_pid "$name" "$word")" || return 0
  target="$pid"
  [[ "$mode" == group ]] && target="-$pid"
  kill "-$sig" -- "$target" 2>/dev/null || true
  for ((i = 0; i < timeout_s * 10; i++)); do
    _gone "$pid" "$word" "$mode" && break
    sleep 0.1
  done
  if ! _gone "$pid" "$word" "$mode"; then
    echo "warning: $name (pid $pid) outlived SIG$sig for ${timeout_s}s; killing it" >&2
    kill -KILL -- "$target" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      _gone "$pid" "$word" "$mode" && break
      sleep 0.1
    done
  fi
  rm -f "$PID_DIR/$name.pid"
}

# A process group is gone when no member is left (children may outlive their leader).
_gone() {
  if [[ "$3" == group ]]; then
    ! group_alive "$1"
  else
    ! pid_alive "$1" "$2"
  fi
}

# group_alive <pgid>: some process of the group is still running. Zombies are skipped: where
# PID 1 does not reap orphans, they would otherwise keep a dead group "alive" for kill -0.
group_alive() {
  local f line state pgrp
  for f in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$f" || continue
    line="${line##*) }"
    read -r state _ pgrp _ <<<"$line"
    [[ "$pgrp" == "$1" && "$state" != Z ]] && return 0
  done
  return 1
}

# http_status <port> <path>: prints the HTTP status code of GET http://127.0.0.1:<port><path>.
http_status() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 2 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n" "$2" "$1" >&3
    read -r _ code _ <&3 || exit 1
    # Drain the response: a peer that sees its connection reset mid-write logs an error.
    while read -r -t 1 _ <&3; do :; done
    echo "$code"
  ' _ "$1" "$2" 2>/dev/null
}

show_log_tail() {
  local log="$1"
  if [[ -f "$log" ]]; then
    echo "--- last lines of $log ---" >&2
    tail -n 30 "$log" >&2
  fi
}

# The uv launcher: the installed binary, or the one pip installed as a module.
uv_cmd() {
  if command -v uv >/dev/null 2>&1; then
    echo uv
  elif python3 -m uv --version >/dev/null 2>&1; then
    echo "python3 -m uv"
  else
    return 1
  fi
}
