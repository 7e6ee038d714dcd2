"""The ledger's REST API (money-api.md) over httpx, with the portal's API key.

A 4xx answer becomes ``LedgerRefused`` (the page shows a plain message); a 5xx or a network
failure is left to propagate (the page answers 503 and nothing is lost: every write is
idempotent, so the consumer's retry records once).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from dunning_portal.domain.money import AccountInfo, Money, Offers
from dunning_portal.ports import LedgerRefused, PaymentRecord, ReversalReason, Source


def _minor_text(amount_minor: int) -> str:
    return f"{amount_minor // 100}.{amount_minor % 100:02d}"


class HttpLedger:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._http = client

    @classmethod
    def connect(cls, base_url: str, api_key: str | None, timeout_s: float) -> HttpLedger:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        return cls(httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout_s))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str) -> Any:
        response = await self._http.get(path)
        return self._json(response)

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        response = await self._http.post(path, json=body)
        return self._json(response)

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        if 400 <= response.status_code < 500:
            try:
                error = response.json().get("error", response.json())
            except ValueError:
                error = response.text[:200]
            raise LedgerRefused(response.status_code, error)
        response.raise_for_status()
        return response.json()

    async def account(self, account_id: str) -> AccountInfo:
        body = await self._get(f"/v1/accounts/{account_id}")
        consumer, debt = body.get("consumer", {}), body.get("debt", {})
        return AccountInfo(
            account_id=body["account_id"],
            creditor=debt.get("creditor", ""),
            third_party=debt.get("collector_type", "third_party") == "third_party",
            locale=consumer.get("locale", "en_US"),
            phones=len(consumer.get("phones", [])),
            emails=len(consumer.get("emails", [])),
        )

    async def money(self, account_id: str) -> Money:
        return Money.model_validate(await self._get(f"/v1/accounts/{account_id}/money"))

    async def offers(self, account_id: str) -> Offers:
        return Offers.model_validate(await self._get(f"/v1/accounts/{account_id}/offers"))

    async def record_payment(self, account_id: str, payment: PaymentRecord) -> None:
        await self._post(
            f"/v1/accounts/{account_id}/payments",
            {
                "payment_id": payment.payment_id,
                "amount": _minor_text(payment.amount_minor),
                "currency": payment.currency,
                "method": payment.method,
                "source": payment.source,
            },
        )

    async def reverse_payment(
        self, account_id: str, payment_id: str, *, reason: ReversalReason, source: Source
    ) -> None:
        await self._post(
            f"/v1/accounts/{account_id}/payments/{payment_id}/reversal",
            {"reason": reason, "source": source},
        )

    async def agree_plan(self, account_id: str, *, plan_id: str, offer_id: str) -> None:
        await self._post(
            f"/v1/accounts/{account_id}/plans",
            {"plan_id": plan_id, "offer_id": offer_id, "source": "page"},
        )

    async def record_promise(
        self, account_id: str, *, promise_id: str, amount_minor: int, due_on: date
    ) -> None:
        await self._post(
            f"/v1/accounts/{account_id}/promises",
            {
                "promise_id": promise_id,
                "amount_minor": amount_minor,
                "due_on": due_on.isoformat(),
                "source": "page",
            },
        )

    async def agree_settlement(self, account_id: str, *, settlement_id: str, offer_id: str) -> None:
        await self._post(
            f"/v1/accounts/{account_id}/settlements",
            {"settlement_id": settlement_id, "offer_id": offer_id, "source": "page"},
        )

    async def record_signal(
        self, account_id: str, *, signal_id: str, kind: str, channel: str | None
    ) -> None:
        # Signals record their source among their details (their body takes no other field).
        body: dict[str, Any] = {
            "signal_id": signal_id,
            "kind": kind,
            "details": {"source": "page"},
        }
        if channel is not None:
            body["channel"] = channel
        await self._post(f"/v1/accounts/{account_id}/signals", body)

    async def add_note(self, account_id: str, *, note_key: str, text: str) -> None:
        notes = await self._get(f"/v1/accounts/{account_id}/notes")
        if any(note_key in n.get("text", "") for n in notes.get("notes", [])):
            return
        await self._post(f"/v1/accounts/{account_id}/notes", {"text": f"{text} [{note_key}]"})
