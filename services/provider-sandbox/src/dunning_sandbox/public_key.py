"""`python -m dunning_sandbox.public_key` prints the Event Webhook verification key.

It reads (or creates) the signing key at `DUNNING_SANDBOX_SENDGRID_SIGNING_KEY_PATH`, so
a stack script can configure the email worker before the sandbox is even started:
`export DUNNING_EMAIL_SENDGRID_WEBHOOK_PUBLIC_KEY=$(python -m dunning_sandbox.public_key)`.
"""

from __future__ import annotations

import sys

from dunning_sandbox.config import SandboxSettings
from dunning_sandbox.signing import EventWebhookSigner


def main() -> int:
    path = SandboxSettings().sendgrid_signing_key_path
    if path is None:
        sys.stderr.write("no signing key path is configured; the key is made per run\n")
        return 1
    sys.stdout.write(EventWebhookSigner.from_pem_file(path).public_key_base64 + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
