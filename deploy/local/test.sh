#!/usr/bin/env bash
# The test command: static checks, then every test against the real local stack, then the
# chaos suite's short form on a cluster of its own (deploy/local/cluster.sh; docs/chaos.md).
# The stack is started if it is not running, and stopped again if this script started it;
# the chaos cluster is always stopped (the suite's driver stops it, the trap once more).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
started=0
t0=$SECONDS

echo "== static checks"
uv run ruff check .
uv run ruff format --check .
uv run mypy
bash deploy/local/mypy_tests.sh
uv run lint-imports

echo "== local stack"
if ! bash deploy/local/stack.sh status >/dev/null 2>&1; then started=1; fi
bash deploy/local/stack.sh up
cleanup() {
  bash deploy/local/cluster.sh down >/dev/null 2>&1 || true
  if [[ $started == 1 ]]; then bash deploy/local/stack.sh down; fi
}
trap cleanup EXIT

echo "== tests"
DUNNING_STACK_EXTERNAL=1 uv run pytest "$@"

# Arguments pick some tests: the chaos short form (about 4-5 minutes) runs with none given.
if [[ $# == 0 ]]; then
  echo "== chaos, short form (its own cluster and services on ports 29092.., 8101-8122)"
  uv run pytest -m chaos tests/chaos
fi
echo "== test command took $((SECONDS - t0)) s"
