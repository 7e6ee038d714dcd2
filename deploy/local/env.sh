# shellcheck shell=bash
# Source me: `source deploy/local/env.sh`. Points services, tests and the CLI at the local stack
# that deploy/local/stack.sh runs. Sets no shell options, so it is safe in an interactive shell.

_dunning_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$_dunning_repo/deploy/local/stack.env"
export DUNNING_STATE_DIR="${DUNNING_STATE_DIR:-$_dunning_repo/.state}"
export DUNNING_KAFKA_BOOTSTRAP="${DUNNING_KAFKA_BOOTSTRAP:-127.0.0.1:$KAFKA_PORT}"
export DUNNING_REDIS_URL="${DUNNING_REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}"
export DUNNING_DATABASE_URL="${DUNNING_DATABASE_URL:-postgresql+asyncpg://dunning:dunning@127.0.0.1:$PG_PORT/dunning}"
export DUNNING_BOOTSTRAP_ADMIN_KEY="${DUNNING_BOOTSTRAP_ADMIN_KEY:-$LOCAL_BOOTSTRAP_ADMIN_KEY}"
export DUNNING_AUTH_PEPPER="${DUNNING_AUTH_PEPPER:-$LOCAL_AUTH_PEPPER}"
export DUNNING_API_KEY="${DUNNING_API_KEY:-$DUNNING_BOOTSTRAP_ADMIN_KEY}"
export DUNNING_METRICS_TOKEN="${DUNNING_METRICS_TOKEN:-$LOCAL_METRICS_TOKEN}"
unset _dunning_repo
