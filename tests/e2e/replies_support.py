"""What the replies' end-to-end test asks of the running pipeline: a client for the
scheduler's case view, the ledger's log and the sandbox's inbound simulators, and the
checks of the webhooks' edges (bad input, replays, RFC 8058 one-click)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from dunning_sandbox.signing import EventWebhookSigner, twilio_signature
from dunning_testkit.paths import service_url
from dunning_testkit.stack import REPO

from .conftest import Pipeline, until

OUR_NUMBER = "+15005550006"
TWILIO_TOKEN = "sandbox-auth-token"  # the sandbox's and the sms ingress's default
EMAIL_TOKEN = "sandbox-inbound-token"  # the email ingress's default path token


def message(answer: dict[str, Any]) -> str | None:
    body = str(answer.get("response_body") or "")
    return body.split("<Message>")[1].split("</Message>")[0] if "<Message>" in body else None


class Client:
    def __init__(self, http: httpx.AsyncClient, pipeline: Pipeline) -> None:
        self.http, self.p = http, pipeline

    async def case(self, account_id: str) -> dict[str, Any]:
        response = await self.http.get(f"{self.p.scheduler}/v1/cases/{account_id}")
        response.raise_for_status()
        return dict(response.json())

    async def log(self, account_id: str) -> dict[str, Any]:
        url = f"{self.p.ledger}/v1/accounts/{account_id}/communications?detail=events"
        response = await self.http.get(url)
        response.raise_for_status()
        return dict(response.json())

    async def signals(self, account_id: str) -> list[dict[str, Any]]:
        events = (await self.log(account_id))["events"]
        return [e["payload"] for e in events if e["kind"] == "signal"]

    async def text(self, phone: str, body: str) -> dict[str, Any]:
        sent = {"from": phone, "to": OUR_NUMBER, "body": body}
        response = await self.http.post(f"{self.p.sandbox}/_sandbox/twilio/inbound", json=sent)
        assert response.status_code == 200, response.text
        answer = dict(response.json())
        assert answer["delivered"], answer
        return answer

    async def mail(self, address: str, text: str) -> dict[str, Any]:
        sent = {"from": address, "text": text}
        response = await self.http.post(f"{self.p.sandbox}/_sandbox/sendgrid/inbound", json=sent)
        assert response.status_code == 200, response.text
        answer = dict(response.json())
        assert answer["delivered"], answer
        return answer


async def bad_input(c: Client, row: dict[str, str]) -> None:
    """Unsigned, replayed and malformed webhooks change nothing for the account."""
    account_id, phone = row["account_id"], row["phone"]
    sms_ingress, email_ingress = service_url("sms-ingress"), service_url("email-ingress")
    http = httpx.AsyncClient(timeout=30)
    async with http:
        url = f"{sms_ingress}/webhooks/twilio/inbound"
        form = {"MessageSid": "SM" + "e" * 32, "AccountSid": "AC" + "0" * 32, "From": phone,
                "To": OUR_NUMBER, "Body": "STOP"}  # fmt: skip
        assert (await http.post(url, data=form)).status_code == 403  # unsigned
        forged = {"X-Twilio-Signature": twilio_signature("not-our-token", url, form)}
        assert (await http.post(url, data=form, headers=forged)).status_code == 403
        invalid = b"MessageSid=SM1&From=" + phone.encode() + b"&Body=%FF%FE%C3STOP"
        headers = {"content-type": "application/x-www-form-urlencoded"}
        assert (await http.post(url, content=invalid, headers=headers)).status_code == 403
        mail = {"from": row["email"], "text": "STOP"}
        stolen = f"{email_ingress}/webhooks/sendgrid/inbound/guessed-token"
        fields = {k: (None, v) for k, v in mail.items()}
        assert (await http.post(stolen, files=fields)).status_code == 403
        boundary = "b0undary"
        # From an address no account has: whatever it says is dead-lettered, not applied.
        broken = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="from"\r\n\r\n'
                f"nobody.{account_id.lower()}@example.com\r\n--{boundary}\r\n"
                'Content-Disposition: form-data; name="text"\r\n\r\n'
            ).encode()
            + b"\xff\xfe \xc3 pay\r\n"
            + f"--{boundary}--\r\n".encode()
        )
        mixed = {"content-type": f"multipart/form-data; boundary={boundary}"}
        inbound = f"{email_ingress}/webhooks/sendgrid/inbound/{EMAIL_TOKEN}"
        assert (await http.post(inbound, content=broken, headers=mixed)).status_code < 500
        # A genuine Event Webhook batch replayed after its time: refused as a replay.
        state_dir = Path(os.environ.get("DUNNING_STATE_DIR", REPO / ".state"))
        signer = EventWebhookSigner.from_pem_file(state_dir / "sandbox" / "e2e-sendgrid.pem")
        batch = orjson.dumps([{"email": row["email"], "event": "unsubscribe",
                               "account_id": account_id, "sg_event_id": "replayed-1"}])  # fmt: skip
        stale = str(int(time.time()) - 3600)
        replay = {
            "X-Twilio-Email-Event-Webhook-Signature": signer.sign(stale, batch),
            "X-Twilio-Email-Event-Webhook-Timestamp": stale,
            "content-type": "application/json",
        }
        events = f"{email_ingress}/webhooks/sendgrid/events"
        assert (await http.post(events, content=batch, headers=replay)).status_code == 403
        # A signed text delivered twice (Twilio retries): one signal, one answer.
        form = {**form, "Body": "HELP", "MessageSid": "SM" + "f" * 32}
        signed = {"X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, url, form)}
        first = await http.post(url, data=form, headers=signed)
        again = await http.post(url, data=form, headers=signed)
        assert "<Message>" in first.text
        assert "<Message>" not in again.text
    await asyncio.sleep(10)  # what would have been recorded has had time to be
    case = await c.case(account_id)
    assert case["opted_out_channels"] == [], case
    assert case["status"] == "active", case
    kinds = [s["kind"] for s in await c.signals(account_id) if s["kind"] != "engaged"]
    assert kinds == ["help_requested"], kinds


async def one_click(c: Client, row: dict[str, str]) -> None:
    """RFC 8058: the mailbox provider POSTs ``List-Unsubscribe=One-Click`` to the link in the
    e-mail's List-Unsubscribe header; the address is unsubscribed everywhere at once."""
    listed = await c.http.get(f"{c.p.sandbox}/_sandbox/messages", params={"channel": "email"})
    mails = [m for m in listed.json()["messages"] if row["email"] in m["to"]]
    assert mails, row["email"]
    headers = mails[0]["headers"]
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = headers["List-Unsubscribe"].split(">")[0].lstrip("<")
    token = link.rsplit("/", 1)[1]
    async with httpx.AsyncClient(timeout=30) as http:
        url = f"{service_url('email-ingress')}/unsubscribe/{token}"
        response = await http.post(url, content=b"List-Unsubscribe=One-Click")
        assert response.status_code == 204, response.text
        forged = await http.post(f"{url[:-4]}AAAA", content=b"List-Unsubscribe=One-Click")
        assert forged.status_code == 403

    async def unsubscribed(a: str = row["account_id"]) -> list[str]:
        return [] if "email" in (await c.case(a))["opted_out_channels"] else [a]

    await until(unsubscribed, 60, "one-click unsubscribe applied")
