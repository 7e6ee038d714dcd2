"""The consumers' replies end to end (issue 9): texts and e-mails posted through the sandbox
exactly as Twilio and SendGrid post them, in English, Spanish and Chinese.

Each account first receives its friendly reminder (so the ingresses know whose number and
address it is), then replies once; its next step is then answered, paused, moved or only
noted as the intent says (scheduler's case view), and the ledger's communication log shows
the signal with its intent (and the confirmation text that was answered). STOP gets one
confirmation, a second STOP none, START re-enables with its own; HELP gets its reply.
Bad input: empty, 1,600 characters, only emoji, invalid UTF-8, unsigned and replayed
webhooks (403, or for a replayed Twilio text: no second signal and no second answer).
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from dunning_cli.portfolio import sample_rows, to_csv
from dunning_sandbox.signing import EventWebhookSigner, twilio_signature
from dunning_testkit.paths import auth_headers, service_url
from dunning_testkit.stack import REPO

from .conftest import Pipeline

pytestmark = pytest.mark.e2e

LOCALES = ("en_US", "es_US", "zh_CN")
OUR_NUMBER = "+15005550006"
TWILIO_TOKEN = "sandbox-auth-token"  # the sandbox's and the sms ingress's default
EMAIL_TOKEN = "sandbox-inbound-token"  # the email ingress's default path token


@dataclass(frozen=True)
class Reply:
    channel: str  # sms | email
    text: str
    intent: str
    expect: str  # answer | paused:<reason> | moved | noted | restricted | stopped
    locale: str  # the account's


def _r(channel: str, expect: str, intent: str, *texts: str) -> list[Reply]:
    """Replies written in English, Spanish and Chinese in turn, by accounts in that locale."""
    return [Reply(channel, t, intent, expect, LOCALES[i % 3]) for i, t in enumerate(texts)]


# One reply per account, in the account's language.
SMS = [
    *_r("sms", "answer", "pay", "I want to pay now", "Quiero pagar", "我想付款"),
    *_r("sms", "answer", "pay", "PAY", "quiero pagar hoy", "我要还款"),
    *_r("sms", "answer", "plan", "can I get a payment plan", "No puedo pagar todo",
        "可以分期付款吗"),
    *_r("sms", "answer", "bill_not_received", "I never got the bill", "No recibí la factura",
        "我从来没有收到账单"),
    *_r("sms", "moved", "think_time", "let me think about it", "déjame pensarlo", "让我考虑一下"),
    *_r("sms", "paused:promised_to_pay", "promise", "I will pay $50 on Friday",
        "Pagaré 50 dólares el viernes", "我周五付500"),
    *_r("sms", "paused:disputed", "dispute", "this is not my debt", "esta no es mi deuda",
        "这不是我的债务"),
    *_r("sms", "restricted", "wrong_number", "wrong number", "número equivocado", "打错了"),
    *_r("sms", "noted", "call_me", "please call me", "llámame por favor", "请给我打电话"),
    *_r("sms", "noted", "unknown", "ok thanks 👍", "hola", "好的"),
    *_r("sms", "noted", "unknown", "", "🙂🙂🙂", "x" * 1600),
    *_r("sms", "stopped", "opt_out", "please stop texting me about this", "No me escriba más",
        "退订"),
]  # fmt: skip
EMAIL = [
    *_r("email", "answer", "pay", "I want to pay now", "Quiero pagar", "我想付款"),
    *_r("email", "answer", "plan", "can I get a payment plan", "¿Puedo hacer un plan de pagos?",
        "我付不起全部，可以分期吗"),
    *_r("email", "paused:disputed", "dispute", "I already paid this", "esta no es mi deuda",
        "这不是我的债务"),
    *_r("email", "noted", "call_me", "please call me"),
    *_r("email", "stopped", "opt_out", "No me escriba más"),
]  # fmt: skip
# Accounts of their own: STOP/STOP/START and HELP per language, the bad-input checks.
PROTOCOL = (
    "stop-en",
    "stop-es",
    "stop-zh",
    "help-en",
    "help-es",
    "help-zh",
    "unsigned",
    "one-click",
)
STOPS = {"stop-en": "STOP", "stop-es": "BAJA", "stop-zh": "退订"}
# HELP in each language, and what its answer says in that language about opting out.
HELPS = {
    "help-en": ("HELP", "Reply STOP"),
    "help-es": ("AYUDA", "Responda STOP"),
    "help-zh": ("帮助", "回复 STOP 退订"),
}


def accounts(locales: list[str]) -> list[dict[str, str]]:
    """Accounts in the continental zones (reachable at once), each with its own number and
    address, in these locales."""
    count = len(locales)
    rows = [r for r in sample_rows(count * 2, seed=29) if r["state"] not in ("HI", "AK")]
    out = []
    for i, row in enumerate(rows[:count]):
        out.append(
            {
                **row,
                "account_id": f"RPL-{i:05d}",
                "debt_id": f"RPLD-{i:05d}",
                # 556-1000 and up: clear of the sandbox's test numbers (0001-0500 end in failures).
                "phone": f"+1{row['phone'][2:5]}556{1000 + i:04d}",
                "email": f"reply.{i}@example.com",
                "locale": locales[i],
                "medical": "false",
                "legal_action_authorized": "false",
                "limitation_date": "2030-01-01",  # none time-barred: one plain ladder
            }
        )
    return out


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


async def until(check: Any, timeout_s: float, what: str) -> None:
    """Poll ``check`` (async, returning a list of what is still wrong) until it is empty."""
    left: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        left = await check()
        if not left:
            return
        await asyncio.sleep(2)
    raise AssertionError(f"{what}: still wrong after {timeout_s:.0f}s: {left[:10]}")


async def expectation_met(c: Client, account_id: str, reply: Reply, before: set[str]) -> str:
    """'' when the account shows what the reply should have done, else what is missing."""
    case = await c.case(account_id)
    intents = [s.get("details", {}).get("intent") for s in await c.signals(account_id)]
    if reply.intent not in intents:
        return f"{account_id}: the ledger shows no signal with intent {reply.intent} ({intents})"
    kind, _, reason = reply.expect.partition(":")
    if kind == "answer":
        new = [s for s in case["steps"] if s["step_id"] not in before]
        if not any(s["channel"] == reply.channel for s in new):
            return (
                f"{account_id}: no answering {reply.channel} step ({case['note']}; "
                f"status {case['status']}, paused for {case['pause_reasons']})"
            )
        logged = {s["step_id"] for s in (await c.log(account_id))["steps"] if s["decision"]}
        if not {s["step_id"] for s in new} & logged:
            return f"{account_id}: the answering step is not in the ledger's log"
    elif kind == "paused" and reason not in case["pause_reasons"]:
        return f"{account_id}: not paused for {reason} ({case['pause_reasons']})"
    elif kind == "moved" and "time to think" not in (case["note"] or ""):
        return f"{account_id}: the follow-up was not moved ({case['note']})"
    elif kind == "noted" and (
        f"reply '{reply.intent}'" not in (case["note"] or "") or case["status"] != "active"
    ):
        return f"{account_id}: the reply was not noted, or paused something ({case})"
    elif kind == "restricted" and "sms" in case["usable_channels"]:
        return f"{account_id}: the wrong number is still used"
    elif kind == "stopped" and reply.channel not in case["opted_out_channels"]:
        return f"{account_id}: {reply.channel} not stopped ({case['opted_out_channels']})"
    return ""


async def test_replies_are_heard_once_understood_and_obeyed(pipeline: Pipeline) -> None:
    replies = SMS + EMAIL
    assert sum(r.channel == "sms" for r in replies) + 3 * 3 + 3 >= 40  # + stops, starts, helps
    assert sum(r.channel == "email" for r in replies) >= 10
    locales = [r.locale for r in replies] + [
        {"en": "en_US", "es": "es_US", "zh": "zh_CN"}.get(name[-2:], "en_US") for name in PROTOCOL
    ]
    rows = accounts(locales)
    by_id = {r["account_id"]: r for r in rows}
    reply_of = {rows[i]["account_id"]: reply for i, reply in enumerate(replies)}
    protocol = {name: rows[len(replies) + i] for i, name in enumerate(PROTOCOL)}
    async with httpx.AsyncClient(timeout=60, headers=auth_headers()) as http:
        c = Client(http, pipeline)
        response = await http.post(
            f"{pipeline.ledger}/v1/accounts/import",
            content=to_csv(rows).encode(),
            headers={"content-type": "text/csv"},
        )
        assert response.status_code == 200, response.text

        async def unreached() -> list[str]:
            left = []
            for account_id in by_id:
                steps = (await c.log(account_id))["steps"]
                done = {s["channel"] for s in steps if (s["delivery"] or {}).get("final")}
                if done < {"sms", "email"}:
                    left.append(account_id)
            return left

        await until(unreached, 300, "friendly reminders delivered")
        before = {a: {s["step_id"] for s in (await c.case(a))["steps"]} for a in by_id}

        for account_id, reply in reply_of.items():
            row = by_id[account_id]
            if reply.channel == "sms":
                answer = await c.text(row["phone"], reply.text)
                confirmed = message(answer)
                # Only an opt-out is answered at once; the rest is acted on, not acknowledged.
                assert (confirmed is not None) == (reply.intent == "opt_out"), (reply, answer)
            else:
                await c.mail(row["email"], reply.text)

        async def unmet() -> list[str]:
            found = [await expectation_met(c, a, r, before[a]) for a, r in reply_of.items()]
            return [f for f in found if f]

        await until(unmet, 180, "replies obeyed")

        # STOP: one confirmation, a second STOP none, START re-enables with its own.
        for name, word in STOPS.items():
            row = protocol[name]
            first = message(await c.text(row["phone"], word))
            assert first is not None
            assert "START" in first
            assert message(await c.text(row["phone"], word)) is None
        for name in STOPS:
            account_id = protocol[name]["account_id"]

            async def stopped(a: str = account_id) -> list[str]:
                return [] if "sms" in (await c.case(a))["opted_out_channels"] else [a]

            await until(stopped, 60, "STOP applied")
            confirmation = message(await c.text(protocol[name]["phone"], "START"))
            assert confirmation is not None
            assert "STOP" in confirmation

            async def restarted(a: str = account_id) -> list[str]:
                return [] if "sms" not in (await c.case(a))["opted_out_channels"] else [a]

            await until(restarted, 60, "START applied")

            async def confirmed_once(a: str = account_id) -> list[str]:
                # The communication log: STOP, STOP, START; one answer to each kind.
                signals = await c.signals(a)
                answers = [s["details"].get("answer") for s in signals]
                ok = len(signals) == 3 and answers.count("opt_out_confirmation") == 1
                return [] if ok and answers.count("opt_in_confirmation") == 1 else [str(answers)]

            await until(confirmed_once, 60, "confirmations in the communication log")

        # HELP: the creditor's name, contact and how to opt out, in the consumer's language.
        for name, (word, opt_out) in HELPS.items():
            help_reply = message(await c.text(protocol[name]["phone"], word))
            assert help_reply is not None
            assert "Acme Recovery Services" in help_reply
            assert "1-800-555-0199" in help_reply
            assert opt_out in help_reply
            account_id = protocol[name]["account_id"]

            async def logged(a: str = account_id) -> list[str]:
                answers = [s["details"].get("answer") for s in await c.signals(a)]
                return [] if "help_reply" in answers else [a]

            await until(logged, 60, "HELP reply in the communication log")

        # An e-mail opened, a link clicked: engagement on the account's record, nothing paused.
        reader = protocol["help-en"]
        for event in ("open", "click"):
            sent = {"email": reader["email"], "event": event}
            response = await http.post(f"{pipeline.sandbox}/_sandbox/sendgrid/events", json=sent)
            assert response.status_code == 202, response.text

        async def engaged(a: str = reader["account_id"]) -> list[str]:
            found = [s["details"].get("event") for s in await c.signals(a)]
            return [] if {"open", "click"} <= set(found) else [f"{a}: {found}"]

        await until(engaged, 60, "opens and clicks recorded")
        assert (await c.case(reader["account_id"]))["status"] == "active"

        await one_click(c, protocol["one-click"])
        await bad_input(c, protocol["unsigned"])


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
