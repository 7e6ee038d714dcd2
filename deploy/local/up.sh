#!/usr/bin/env bash
# `make up`: the local stack and every service on the wall clock, left running for your own
# portfolio. Against the provider sandbox unless `.env` holds real Twilio / SendGrid
# credentials (see .env.example). Idempotent: a second `make up` starts what is missing and
# prints the addresses again. `make down` (deploy/local/down.sh) stops what this started.
#
# Data stays between `make up`s: the topics of topics.conf (no prefix), the database
# `dunning`, Redis database 0. `make down` keeps them; `make clean` drops the stack's state.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export PATH="$HOME/.local/bin:$PATH" # where `make` installs uv
if [[ -f .env ]]; then
  set -a
  # shellcheck disable=SC1091
  source .env
  set +a
fi
source deploy/local/env.sh
# An accelerated clock (for trying things out) needs one epoch shared by every service.
if [[ -n "${DUNNING_CLOCK_START:-}" && -z "${DUNNING_CLOCK_EPOCH:-}" ]]; then
  DUNNING_CLOCK_EPOCH="$(date +%s.%N)"
  export DUNNING_CLOCK_EPOCH
fi
UP_DIR="$DUNNING_STATE_DIR/up"
mkdir -p "$UP_DIR"

# The stack is ours to stop only if this (or an earlier `make up`) started it.
if ! bash deploy/local/stack.sh status >/dev/null 2>&1; then
  touch "$UP_DIR/stack-started"
fi
bash deploy/local/stack.sh up

live_sms=0
live_email=0
live_card=0
[[ -n "${DUNNING_SMS_TWILIO_ACCOUNT_SID:-}" && "${DUNNING_SMS_TWILIO_ACCOUNT_SID}" != "AC00000000000000000000000000000000" ]] && live_sms=1
[[ -n "${DUNNING_EMAIL_SENDGRID_API_KEY:-}" && "${DUNNING_EMAIL_SENDGRID_API_KEY}" != "SG.sandbox-key" ]] && live_email=1
[[ -n "${DUNNING_PORTAL_STRIPE_SECRET_KEY:-}" && "${DUNNING_PORTAL_STRIPE_SECRET_KEY}" != "sk_test_sandbox" ]] && live_card=1

# The payment page: messages link to it; locally it calls the ledger with the bootstrap key.
export DUNNING_SCHEDULER_PAYMENTS_URL="${DUNNING_SCHEDULER_PAYMENTS_URL:-http://127.0.0.1:8008}"
export DUNNING_PORTAL_LEDGER_API_KEY="${DUNNING_PORTAL_LEDGER_API_KEY:-$DUNNING_BOOTSTRAP_ADMIN_KEY}"

services=(ledger scheduler gate sms email sms-ingress email-ingress portal ops)
if ((live_card == 0)); then
  # The sandbox's Stripe: its test cards, its disputes signed for the page's webhook.
  export DUNNING_PORTAL_STRIPE_SECRET_KEY="${DUNNING_PORTAL_STRIPE_SECRET_KEY:-sk_test_sandbox}"
  export DUNNING_PORTAL_STRIPE_API_BASE="${DUNNING_PORTAL_STRIPE_API_BASE:-http://127.0.0.1:8010}"
  export DUNNING_STRIPE_WEBHOOK_SECRET="${DUNNING_STRIPE_WEBHOOK_SECRET:-whsec_sandbox}"
  export DUNNING_SANDBOX_STRIPE_WEBHOOK_URL="${DUNNING_SANDBOX_STRIPE_WEBHOOK_URL:-http://127.0.0.1:8008/webhooks/stripe}"
fi
if ((live_sms == 0 || live_email == 0 || live_card == 0)); then
  services+=(sandbox)
  signing_key="$DUNNING_STATE_DIR/sandbox/sendgrid-event-webhook.pem"
  export DUNNING_SANDBOX_SENDGRID_SIGNING_KEY_PATH="$signing_key"
  export DUNNING_SANDBOX_TWILIO_INBOUND_URL="${DUNNING_SANDBOX_TWILIO_INBOUND_URL:-http://127.0.0.1:8006/webhooks/twilio/inbound}"
  export DUNNING_SANDBOX_SENDGRID_EVENT_WEBHOOK_URL="${DUNNING_SANDBOX_SENDGRID_EVENT_WEBHOOK_URL:-http://127.0.0.1:8007/webhooks/sendgrid/events}"
  export DUNNING_SANDBOX_SENDGRID_INBOUND_URL="${DUNNING_SANDBOX_SENDGRID_INBOUND_URL:-http://127.0.0.1:8007/webhooks/sendgrid/inbound/${DUNNING_EMAIL_INBOUND_TOKEN:-sandbox-inbound-token}}"
fi
if ((live_sms == 0)); then
  export DUNNING_SMS_TWILIO_BASE_URL="${DUNNING_SMS_TWILIO_BASE_URL:-http://127.0.0.1:8010}"
  export DUNNING_SMS_PUBLIC_BASE_URL="${DUNNING_SMS_PUBLIC_BASE_URL:-http://127.0.0.1:8006}"
fi
if ((live_email == 0)); then
  export DUNNING_EMAIL_SENDGRID_BASE_URL="${DUNNING_EMAIL_SENDGRID_BASE_URL:-http://127.0.0.1:8010}"
  # The sandbox signs its Event Webhook with a key of its own: the worker checks with its half.
  DUNNING_EMAIL_SENDGRID_WEBHOOK_PUBLIC_KEY="$(uv run --frozen --no-sync dunning demo signing-key "$signing_key")"
  export DUNNING_EMAIL_SENDGRID_WEBHOOK_PUBLIC_KEY
elif [[ -z "${DUNNING_EMAIL_SENDGRID_WEBHOOK_PUBLIC_KEY:-}" ]]; then
  echo "up: .env sets a SendGrid API key but no DUNNING_EMAIL_SENDGRID_WEBHOOK_PUBLIC_KEY (the Event Webhook's verification key, from SendGrid's Mail Settings)" >&2
  exit 1
fi

bash deploy/local/services.sh start "${services[@]}"
printf '%s\n' "${services[@]}" >"$UP_DIR/services"

cat <<TXT

Dunning is up (wall clock$( [[ -n "${DUNNING_CLOCK_SPEED:-}" && "${DUNNING_CLOCK_SPEED}" != "1" ]] && echo ", ${DUNNING_CLOCK_SPEED}x")). Left running; stop it with: make down
  ledger API        http://127.0.0.1:8001        docs: http://127.0.0.1:8001/docs
  scheduler         http://127.0.0.1:8002        gate: http://127.0.0.1:8003 (what-if: POST /v1/evaluate)
  sms / email       $( ((live_sms)) && echo "Twilio (live)" || echo "sandbox") / $( ((live_email)) && echo "SendGrid (live)" || echo "sandbox")
  webhooks          http://127.0.0.1:8006 (Twilio)   http://127.0.0.1:8007 (SendGrid)
  payment page      http://127.0.0.1:8008/p/<token> (the link in every message; cards: $( ((live_card)) && echo "Stripe (live)" || echo "sandbox, 4242 4242 4242 4242"))
  dashboard         http://127.0.0.1:8009/ (sign in with an API key, e.g. DUNNING_BOOTSTRAP_ADMIN_KEY of deploy/local/stack.env)
TXT
if ((live_sms == 0 || live_email == 0)); then
  echo "  sandbox inbox     ./dunning sandbox inbox [--to PHONE|EMAIL]    reply: ./dunning sandbox reply PHONE TEXT"
fi
echo "  import            ./dunning import FILE.csv      summary: ./dunning summary"
echo "  logs              $DUNNING_STATE_DIR/logs/<service>.log"
