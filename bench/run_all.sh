#!/usr/bin/env bash
# Every benchmark: starts the local stack if needed, runs each bench_*.py, prints figures,
# writes bench/results/<name>.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=0
if ! bash deploy/local/stack.sh status >/dev/null 2>&1; then started=1; fi
bash deploy/local/stack.sh up
if [[ $started == 1 ]]; then trap 'bash deploy/local/stack.sh down' EXIT; fi
for bench in bench/bench_*.py; do
  name="$(basename "$bench" .py)"
  echo "### $name"
  uv run python -m "bench.$name"
done
