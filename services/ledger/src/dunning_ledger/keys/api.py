"""``/v1/keys``: admins create, list and revoke API keys (the routes beside ``api``'s)."""

from __future__ import annotations

from typing import Annotated

from dunning_core.contracts.access import KEY_ID, Permission, Principal
from dunning_core.runtime.auth import require
from fastapi import APIRouter, Depends, Path

from dunning_ledger.errors import NotFound
from dunning_ledger.keys.schemas import KeyCreatedOut, KeyIn, KeyOut, KeysOut
from dunning_ledger.keys.service import KeyService
from dunning_ledger.routing import authenticated_router, error_bodies, use_case

Admin = Annotated[Principal, Depends(require(Permission.MANAGE_KEYS))]
_ERRORS = error_bodies(401, 403, 404, 422, 503)
Keys = Annotated[KeyService, Depends(use_case("keys"))]


def router() -> APIRouter:
    api = authenticated_router("/v1/keys", "keys")

    @api.post(
        "",
        response_model=KeyCreatedOut,
        status_code=201,
        responses=_ERRORS,
        summary="Create an API key; the key itself is in this answer only",
    )
    async def create_key(who: Admin, body: KeyIn, keys: Keys) -> KeyCreatedOut:
        created = await keys.create(body.name, body.role, who)
        return KeyCreatedOut(**KeyOut.of(created.key).model_dump(), key=created.plain)

    @api.get("", response_model=KeysOut, responses=_ERRORS, summary="Every API key (no secrets)")
    async def list_keys(who: Admin, keys: Keys) -> KeysOut:
        return KeysOut(keys=[KeyOut.of(k) for k in await keys.keys()])

    @api.delete(
        "/{key_id}",
        response_model=KeyOut,
        responses=_ERRORS,
        summary="Revoke an API key, on every service within seconds (idempotent)",
    )
    async def revoke_key(
        who: Admin, keys: Keys, key_id: Annotated[str, Path(description="12 hex digits")]
    ) -> KeyOut:
        if not KEY_ID.match(key_id):
            raise NotFound(f"no API key {key_id!r}: a key id is 12 hex digits")
        return KeyOut.of(await keys.revoke(key_id, who))

    return api
