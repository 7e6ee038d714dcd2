"""The sandbox serves one Twilio account: another account's path is not found, as Twilio answers."""

from __future__ import annotations

import httpx

ACCOUNT = "AC" + "a" * 32
TOKEN = "accounts-test-token"
KEY = "SG.accounts-key"


async def test_other_account_in_path_is_not_found(sandbox: httpx.AsyncClient) -> None:
    other = "AC" + "b" * 32
    response = await sandbox.post(
        f"/2010-04-01/Accounts/{other}/Messages.json",
        auth=(ACCOUNT, TOKEN),
        data={"To": "+14155550123", "From": "+15005550006", "Body": "Hi"},
    )
    assert response.status_code == 404
    assert response.json()["code"] == 20404


async def test_own_account_in_path_is_found(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.post(
        f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json",
        auth=(ACCOUNT, TOKEN),
        data={"To": "+14155550123", "From": "+15005550006", "Body": "Hi"},
    )
    assert response.status_code == 201
