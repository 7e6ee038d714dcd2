"""Reconciliation's question to the sandbox's SendGrid (Email Activity, by custom args):
a message sent whose answer came too late is found by its step id; an unknown step is not."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from dunning_channels.domain import AmbiguousSend, Found, LookupFailed, NotFound
from dunning_core.contracts import Channel, MessageContent, OutreachStep, Stage, step_id
from dunning_email.adapters.sendgrid_sender import SendGridEmailSender, SendGridStepSender
from dunning_testkit.channels import NOW

API_KEY = "SG.reconcile-test-key"
TO = "hung@example.org"


# The settings of the testkit's `sandbox` fixture (one sandbox for the module).
SANDBOX_SETTINGS = {"sendgrid_api_key": API_KEY}


def email_step(account_id: str) -> OutreachStep:
    content = MessageContent(
        body="Hello. Unsubscribe: https://email.example.com/u/t",
        subject="About your balance",
        headers={"List-Unsubscribe": "<https://email.example.com/u/t>"},
    )
    return OutreachStep(
        step_id=step_id(account_id, "debt-1", "friendly_reminder", "email", 1),
        debt_id="debt-1",
        stage=Stage.FRIENDLY_REMINDER,
        channel=Channel.EMAIL,
        attempt=1,
        destination=TO,
        content=content,
        content_hash=content.content_hash(),
        send_at=NOW,
    )


def sendgrid(sandbox: str, api_key: str = API_KEY) -> SendGridStepSender:
    client = SendGridEmailSender(api_key=api_key, host=sandbox, timeout_s=0.5)
    return SendGridStepSender(client, from_address="c@example.com", from_name="Acme")


async def test_a_timeout_after_accepting_is_found_by_its_step_id(sandbox: str) -> None:
    async with httpx.AsyncClient(base_url=sandbox) as http:
        hang = {"destinations": [TO], "hang_s": 2, "times": 1}
        assert (await http.post("/_sandbox/faults", json=hang)).status_code == 201
    sender = sendgrid(sandbox)
    step = email_step("acc-1")
    with pytest.raises(AmbiguousSend):
        await sender.send("acc-1", step)
    await asyncio.sleep(2)
    found = await sender.find("acc-1", step, since=0.0)
    async with httpx.AsyncClient(base_url=sandbox) as http:
        listed = await http.get("/_sandbox/messages", params={"channel": "email"})
    [record] = [m for m in listed.json()["messages"] if m["to"] == [TO]]
    assert found == Found(record["message_id"])
    assert await sender.find("acc-2", email_step("acc-2"), since=0.0) == NotFound()


async def test_a_refused_question_is_no_answer(sandbox: str) -> None:
    answer = await sendgrid(sandbox, "SG.wrong").find("acc-1", email_step("acc-1"), 0.0)
    assert isinstance(answer, LookupFailed)
