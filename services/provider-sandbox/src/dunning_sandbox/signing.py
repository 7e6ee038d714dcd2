"""Webhook signatures exactly as the providers compute them.

Twilio: `X-Twilio-Signature` is base64(HMAC-SHA1(auth token, url + name1 + value1 + …))
over the POST parameters sorted by name. SendGrid: `X-Twilio-Email-Event-Webhook-Signature`
is base64(DER(ECDSA-P256-SHA256(timestamp + payload))), the timestamp travelling in
`X-Twilio-Email-Event-Webhook-Timestamp`; receivers hold the public key as base64 DER.
Stripe: `Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256(endpoint secret, "t.payload")>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
SENDGRID_SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
STRIPE_SIGNATURE_HEADER = "Stripe-Signature"


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The `X-Twilio-Signature` of a form POST of `params` to `url`."""
    message = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), message.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def stripe_signature(secret: str, timestamp: int, payload: bytes) -> str:
    """The `Stripe-Signature` header of `payload` sent at `timestamp`."""
    signed = str(timestamp).encode("ascii") + b"." + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class EventWebhookSigner:
    """Signs SendGrid Event Webhook payloads with one ECDSA P-256 key."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        self._key = private_key
        der = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key_base64 = base64.b64encode(der).decode("ascii")

    @classmethod
    def generate(cls) -> EventWebhookSigner:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem_file(cls, path: Path) -> EventWebhookSigner:
        """Load the key from `path`, creating it (mode 0600) when the file does not exist."""
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(
                key.curve, ec.SECP256R1
            ):
                raise ValueError(f"{path} does not hold an ECDSA P-256 private key")
            return cls(key)
        signer = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = signer._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Write under a temporary name, then link: a concurrent first start keeps one key.
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return cls.from_pem_file(path)
        finally:
            temporary.unlink()
        return signer

    def sign(self, timestamp: str, payload: bytes) -> str:
        signature = self._key.sign(timestamp.encode("ascii") + payload, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(signature).decode("ascii")
