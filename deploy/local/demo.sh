#!/usr/bin/env bash
# The demo: the local stack, every service as its own process on an accelerated clock, a
# sample portfolio through the real pipeline drawn live, a summary, then a clean stop (or,
# with DUNNING_DEMO_STAY=1, everything left running for the dashboard until Ctrl-C).
#
#   DEMO_ACCOUNTS (200)   accounts in the sample portfolio
#   DEMO_SECONDS (95)     real seconds to let the pipeline run
#   DEMO_SPEED (40000)    simulated seconds per real second: 95 s ≈ 44 simulated days, the
#                         whole default ladder (reminder, +5 d, urgency +7 d, formal notice
#                         +10 d, legal warning +14 d)
#   DEMO_GRACE_SECONDS (30)  how much longer the sample may run while a stage of the ladder
#                         has no step yet (a slow machine)
#   DUNNING_DEMO_STAY=1   stay up at the end (`make demo STAY=1`); Ctrl-C stops everything
#   DEMO_PORTFOLIO        your own portfolio file (CSV, or JSON) instead of the sample
#   DEMO_DATABASE (dunning_demo), DEMO_REDIS_DB (1), DEMO_TOPIC_PREFIX (demo<epoch>.)
#                         where the run keeps its data (each made fresh)
#   DUNNING_SERVICES_CONF the services and their ports (deploy/local/services.conf)
#   DUNNING_STACK_EXTERNAL=1  use the stack already running (started elsewhere) as it is
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export PATH="$HOME/.local/bin:$PATH" # where `make` installs uv
source deploy/local/env.sh

accounts="${DEMO_ACCOUNTS:-200}"
seconds="${DEMO_SECONDS:-95}"
speed="${DEMO_SPEED:-40000}"
stay="${DUNNING_DEMO_STAY:-0}"
conf="${DUNNING_SERVICES_CONF:-deploy/local/services.conf}"

# Every service listens where the services file says (DUNNING_<NAME>_PORT), and the demo
# reaches each one there.
declare -A port=()
probed="" # name -> URL of each service, for the dashboard's pipeline page (JSON)
while read -r name number _; do
  [[ -z "$name" ]] && continue
  [[ "$name" == ops || "$name" == sandbox ]] ||
    probed+="${probed:+,}\"$name\":\"http://127.0.0.1:$number\""
  name="${name//-/_}"
  port[$name]="$number"
  export "DUNNING_${name^^}_PORT=$number"
done < <(sed 's/#.*//' "$conf")
url() { echo "http://127.0.0.1:${port[${1//-/_}]}"; }

# DUNNING_STACK_EXTERNAL=1: the stack runs already, started elsewhere; leave it alone.
external="${DUNNING_STACK_EXTERNAL:-0}"
stack_was_up=1
[[ $external == 1 ]] || bash deploy/local/stack.sh status >/dev/null 2>&1 || stack_was_up=0
cleanup() {
  bash deploy/local/services.sh stop >/dev/null 2>&1 || true
  if [[ $stack_was_up == 0 ]]; then bash deploy/local/stack.sh down; fi
}
trap cleanup EXIT
[[ $external == 1 ]] || bash deploy/local/stack.sh up

# A run of its own: fresh topics (new prefix), database and Redis database.
database="${DEMO_DATABASE:-dunning_demo}"
export DUNNING_TOPIC_PREFIX="${DEMO_TOPIC_PREFIX:-demo$(date +%s).}"
export DUNNING_DATABASE_URL="postgresql+asyncpg://dunning:dunning@127.0.0.1:$PG_PORT/$database"
export DUNNING_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/${DEMO_REDIS_DB:-1}"
public_key="$(uv run --frozen --no-sync dunning demo prepare --prefix "$DUNNING_TOPIC_PREFIX" \
  --database "$database" --redis-url "$DUNNING_REDIS_URL" \
  --signing-key "$DUNNING_STATE_DIR/sandbox/sendgrid-event-webhook.pem")"

# One simulated clock for every service: Monday 2 March 2026, 13:00 UTC, at $speed x.
export DUNNING_CLOCK_START="2026-03-02T13:00:00+00:00"
export DUNNING_CLOCK_EPOCH="$(date +%s.%N)"
export DUNNING_CLOCK_SPEED="$speed"
export DUNNING_LOG_JSON=true
# The workers start no call that could end after the approval lapses: they allow a call
# send_guard_call_s wall seconds (1 s), i.e. 11 simulated hours at 40000x, longer than the
# send window. The sandbox answers in milliseconds: allow it 50 ms (33 simulated minutes).
export DUNNING_SMS_SEND_GUARD_CALL_S="${DUNNING_SMS_SEND_GUARD_CALL_S:-0.05}"
export DUNNING_EMAIL_SEND_GUARD_CALL_S="${DUNNING_EMAIL_SEND_GUARD_CALL_S:-0.05}"
# The live view reads every service's /metrics (consumer lag, dead letters, outbox).
export DUNNING_METRICS_TOKEN="${DUNNING_METRICS_TOKEN:-demo-metrics-token}"
export DUNNING_SMS_TWILIO_BASE_URL="$(url sandbox)"
export DUNNING_SMS_PUBLIC_BASE_URL="$(url sms-ingress)"
export DUNNING_EMAIL_SENDGRID_BASE_URL="$(url sandbox)"
export DUNNING_EMAIL_SENDGRID_WEBHOOK_PUBLIC_KEY="$public_key"
export DUNNING_SANDBOX_TWILIO_INBOUND_URL="$(url sms-ingress)/webhooks/twilio/inbound"
export DUNNING_SANDBOX_SENDGRID_EVENT_WEBHOOK_URL="$(url email-ingress)/webhooks/sendgrid/events"
export DUNNING_SANDBOX_SENDGRID_INBOUND_URL="$(url email-ingress)/webhooks/sendgrid/inbound/${DUNNING_EMAIL_INBOUND_TOKEN:-sandbox-inbound-token}"
export DUNNING_SANDBOX_SENDGRID_SIGNING_KEY_PATH="$DUNNING_STATE_DIR/sandbox/sendgrid-event-webhook.pem"
export DUNNING_LEDGER_URL="$(url ledger)" DUNNING_SANDBOX_URL="$(url sandbox)"
# The dashboard (the ops service, when services.conf has it) reads the services where they are.
export DUNNING_OPS_LEDGER_URL="$(url ledger)" DUNNING_OPS_GATE_URL="$(url gate)"
export DUNNING_OPS_SCHEDULER_URL="$(url scheduler)" DUNNING_OPS_SERVICES="{$probed}"

bash deploy/local/services.sh start
portfolio_args=()
[[ -n "${DEMO_PORTFOLIO:-}" ]] && portfolio_args=(--portfolio "$DEMO_PORTFOLIO")
uv run --frozen --no-sync dunning demo drive --accounts "$accounts" --duration "$seconds" \
  --grace "${DEMO_GRACE_SECONDS:-30}" "${portfolio_args[@]}"

[[ $stay == 1 ]] || exit 0
# Stay up: the services keep running (and the clock keeps its pace) until Ctrl-C.
dashboard="http://127.0.0.1:${port[ops]:-8009}/"
cat <<TXT

The demo stays up; Ctrl-C stops every service it started.
  dashboard   $dashboard  sign in with the API key $DUNNING_BOOTSTRAP_ADMIN_KEY (admin)
TXT
if [[ -z "${port[ops]:-}" ]]; then
  echo "              (the ops service is not in $conf yet: nothing answers there)"
  echo "  ledger API  $(url ledger)/docs  (the same key: Authorize, then try /v1/summary)"
fi
echo "  logs        $DUNNING_STATE_DIR/logs/<service>.log"
sleeper=""
trap 'kill "$sleeper" 2>/dev/null; echo; echo "stopping..."; exit 0' INT TERM
while :; do
  sleep 3600 &
  sleeper=$!
  wait "$sleeper" || true
done
