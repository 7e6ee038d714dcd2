#!/usr/bin/env bash
# The test command: static checks, then every test against the real local stack.
# The stack is started if it is not running, and stopped again if this script started it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
started=0
t0=$SECONDS

echo "== static checks"
uv run ruff check .
uv run ruff format --check .
uv run mypy
uv run lint-imports

echo "== local stack"
if ! bash deploy/local/stack.sh status >/dev/null 2>&1; then started=1; fi
bash deploy/local/stack.sh up
if [[ $started == 1 ]]; then trap 'bash deploy/local/stack.sh down' EXIT; fi

echo "== tests"
DUNNING_STACK_EXTERNAL=1 uv run pytest "$@"
echo "== test command took $((SECONDS - t0)) s"
