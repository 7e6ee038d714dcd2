"""Who may call what: API key roles, their permissions, the key format and its record.

Pure (no I/O). Every service asks the same table, so a role means the same thing on
every route of every service:

- ``read_only``: reads (accounts, communication log, cases, template previews, what-if).
- ``agent``: reads, and records consumer signals, notes, promises and disputes; works
  agent tasks (claims, releases, completes them).
- ``operator``: every account, import and payment operation, and agent tasks.
- ``payment_system``: posts payments, and reads, but not the communications.
- ``portal``: the consumer's payment page: reads, but not the communications, and records
  what a consumer may do there (payments, plans and settlements, promises, disputes and
  opt-outs, a call-back note).

``communications.read`` guards what holds the words exchanged with consumers (the messages
sent, whole, and their replies: the timeline, the communication log's events, a step's
record): people's roles have it, the two machine roles do not.
- ``admin``: everything, API keys included.

A key reads ``dun_<key_id>_<secret>``; it is stored and published only as its keyed hash
(HMAC-SHA256 under a pepper every service is given), in a ``KeyRecord`` on the compacted
topic ``auth.keys.v1`` keyed by the key id (see docs/auth.md).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    AGENT = "agent"
    READ_ONLY = "read_only"
    PAYMENT_SYSTEM = "payment_system"
    PORTAL = "portal"


class Permission(StrEnum):
    READ = "read"
    READ_COMMUNICATIONS = "communications.read"  # messages sent and replies, whole
    RECORD_SIGNALS = "signals.record"  # disputes, cease and attorney requests, opt-outs
    RECORD_NOTES = "notes.record"
    RECORD_PROMISES = "promises.record"
    RECORD_PAYMENTS = "payments.record"
    AGREE_PLANS = "plans.agree"
    IMPORT_ACCOUNTS = "accounts.import"
    CHANGE_ACCOUNTS = "accounts.change"
    MANAGE_KEYS = "keys.manage"
    WORK_TASKS = "tasks.work"  # claim, release and complete agent tasks (not the portal)


READS: Final = frozenset({Permission.READ, Permission.READ_COMMUNICATIONS})
_AGENT_WRITES: Final = frozenset(
    {
        Permission.RECORD_SIGNALS,
        Permission.RECORD_NOTES,
        Permission.RECORD_PROMISES,
    }
)
_AGENT: Final = READS | _AGENT_WRITES

PERMISSIONS: Final[dict[Role, frozenset[Permission]]] = {
    Role.READ_ONLY: READS,
    Role.AGENT: _AGENT | {Permission.WORK_TASKS},
    Role.PAYMENT_SYSTEM: frozenset({Permission.READ, Permission.RECORD_PAYMENTS}),
    Role.OPERATOR: _AGENT
    | {
        Permission.RECORD_PAYMENTS,
        Permission.AGREE_PLANS,
        Permission.IMPORT_ACCOUNTS,
        Permission.CHANGE_ACCOUNTS,
        Permission.WORK_TASKS,
    },
    Role.PORTAL: frozenset(
        {Permission.READ, *_AGENT_WRITES, Permission.RECORD_PAYMENTS, Permission.AGREE_PLANS}
    ),
    Role.ADMIN: frozenset(Permission),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in PERMISSIONS[role]


def roles_with(permission: Permission) -> list[Role]:
    """The roles granted ``permission``, in the table's order (for a 403's body)."""
    return [role for role in Role if permission in PERMISSIONS[role]]


KEY_PREFIX: Final = "dun"
KEY_ID = re.compile(r"^[0-9a-f]{12}$")
_KEY = re.compile(r"^dun_(?P<key_id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{20,128})$")
BOOTSTRAP_KEY_ID: Final = "bootstrap"
BOOTSTRAP_PRINCIPAL: Final = "bootstrap-admin"


def key_id_of(key: str) -> str | None:
    """The key id of a well-formed key, else None (the secret is never looked at)."""
    match = _KEY.match(key)
    return match.group("key_id") if match else None


def format_key(key_id: str, secret: str) -> str:
    return f"{KEY_PREFIX}_{key_id}_{secret}"


def key_hash(pepper: bytes, key: str) -> str:
    """The keyed hash stored and published for ``key`` (hex HMAC-SHA256)."""
    return hmac.new(pepper, key.encode(), hashlib.sha256).hexdigest()


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class KeyRecord(BaseModel):
    """Sent (on ``auth.keys.v1``, keyed by ``key_id``) whenever a key is created or revoked.

    The last record of a key id is its state; the topic is compacted, so a service that
    reads it from the start knows every key."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    key_id: str = Field(pattern=KEY_ID.pattern)
    principal: str = Field(min_length=1, max_length=100)
    role: Role
    key_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    revoked: bool = False
    created_at: datetime
    revoked_at: datetime | None = None


class Principal(BaseModel):
    """Who is calling: what a verified key stands for."""

    model_config = ConfigDict(frozen=True)

    key_id: str
    name: str
    role: Role

    def may(self, permission: Permission) -> bool:
        return allows(self.role, permission)
