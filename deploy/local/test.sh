#!/usr/bin/env bash
# The test command: static checks, then every test against the real local stack, then the
# chaos suite's short form on a cluster of its own (deploy/local/cluster.sh; docs/chaos.md).
# The stack is started if it is not running, and stopped again if this script started it;
# the chaos cluster is always stopped (the suite's driver stops it, the trap once more).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
started=0
t0=$SECONDS

stack_pid=""
cleanup() {
  # A static check that failed while the stack was starting: let it finish, then stop it.
  if [[ -n $stack_pid ]]; then wait "$stack_pid" 2>/dev/null || true; fi
  bash deploy/local/cluster.sh down >/dev/null 2>&1 || true
  if [[ $started == 1 ]]; then bash deploy/local/stack.sh down; fi
}
trap cleanup EXIT
# The stack starts (installing what it needs on a fresh machine) while the static checks
# run: its output is shown after them, and a failure to start stops the run there.
if ! bash deploy/local/stack.sh status >/dev/null 2>&1; then started=1; fi
stack_log=$(mktemp)
bash deploy/local/stack.sh up >"$stack_log" 2>&1 &
stack_pid=$!

echo "== static checks"
uv run ruff check .
uv run ruff format --check .
uv run mypy
bash deploy/local/mypy_tests.sh
uv run lint-imports

echo "== local stack"
stack_rc=0
wait "$stack_pid" || stack_rc=$?
cat "$stack_log"
rm -f "$stack_log"
if [[ $stack_rc != 0 ]]; then
  echo "the local stack did not start (exit $stack_rc)" >&2
  exit "$stack_rc"
fi

echo "== tests"
DUNNING_STACK_EXTERNAL=1 uv run pytest "$@"

# Arguments pick some tests: the chaos short form (about 4-5 minutes) runs with none given.
if [[ $# == 0 ]]; then
  echo "== chaos, short form (its own cluster and services on ports 29092.., 8101-8122)"
  uv run pytest -m chaos tests/chaos
fi
echo "== test command took $((SECONDS - t0)) s"
