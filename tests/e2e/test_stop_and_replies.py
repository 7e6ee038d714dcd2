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

from dataclasses import dataclass

import httpx
import pytest
from dunning_cli.portfolio import sample_rows
from dunning_core.contracts.account_import import to_csv
from dunning_testkit.paths import auth_headers

from .conftest import Pipeline, until
from .replies_support import Client, bad_input, message, one_click

pytestmark = pytest.mark.e2e

LOCALES = ("en_US", "es_US", "zh_CN")


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
