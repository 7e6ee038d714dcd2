"""The bodies of ``/v1/keys``: a key is shown in full once, when created."""

from __future__ import annotations

from datetime import datetime

from dunning_core.contracts.access import Role
from pydantic import BaseModel, ConfigDict, Field

from dunning_ledger.models import ApiKey

PRINCIPAL_NAME = r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$"


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=PRINCIPAL_NAME,
        description="Who the key stands for (e.g. ops-jane); recorded on every write.",
    )
    role: Role


class KeyOut(BaseModel):
    key_id: str
    name: str
    role: Role
    created_at: datetime
    created_by: str
    revoked: bool
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    @classmethod
    def of(cls, k: ApiKey) -> KeyOut:
        return cls(
            key_id=k.key_id,
            name=k.principal,
            role=Role(k.role),
            created_at=k.created_at,
            created_by=k.created_by,
            revoked=k.revoked_at is not None,
            revoked_at=k.revoked_at,
            revoked_by=k.revoked_by,
        )


class KeyCreatedOut(KeyOut):
    key: str = Field(description="The API key itself: shown this once, stored only hashed.")


class KeysOut(BaseModel):
    keys: list[KeyOut]
