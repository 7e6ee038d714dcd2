#!/usr/bin/env bash
# `make down`: stops the services `make up` started, and the local stack if `make up` started
# it. Data stays (topics, database, Redis). Stopping twice is fine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source deploy/local/env.sh
UP_DIR="$DUNNING_STATE_DIR/up"
if [[ -f "$UP_DIR/services" ]]; then
  mapfile -t services <"$UP_DIR/services"
  bash deploy/local/services.sh stop "${services[@]}"
  rm -f "$UP_DIR/services"
fi
if [[ -f "$UP_DIR/stack-started" ]]; then
  bash deploy/local/stack.sh down
  rm -f "$UP_DIR/stack-started"
fi
echo "Dunning is down (data kept under $DUNNING_STATE_DIR)."
