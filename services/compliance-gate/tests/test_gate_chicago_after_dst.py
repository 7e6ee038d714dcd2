"""Chaos run chaos1796526280, "allowed at 12:11 UTC = 07:11 in America/Chicago" on
2026-03-10 (CDT since 03-08), e.g. stp_6b446542-... of ACC-000025: not a gate defect.

That consumer is FL, ZIP 33101 (Miami) with a 305 number: Eastern only, as COMPLIANCE.md
asks (the address's state *and ZIP*, and the phone's area code), so 12:11 UTC is 08:11
local. The checker's tests/chaos/zones.py gives every FL consumer Chicago too (it ignores
the ZIP). With Chicago really a candidate, the gate waits for 08:00 CDT = 13:00 UTC.
These tests pin both (they pass on the code the run used).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dunning_core.contracts.events import StepPlanned
from dunning_gate.domain.state import AccountState, apply_account
from dunning_gate.policy.loader import default_policy
from dunning_gate.service import GateDecider
from dunning_testkit.gate import NewYorkSms

STREAM = NewYorkSms("K")
CDT_08 = datetime(2026, 3, 10, 13, tzinfo=UTC)  # 08:00 in Chicago, 09:00 in New York
EDT_08 = datetime(2026, 3, 10, 12, tzinfo=UTC)


def consumer_at(state_code: str, zip_code: str, phone: str) -> tuple[AccountState, StepPlanned]:
    opened = STREAM.account(1)
    assert opened.consumer is not None
    number = opened.consumer.phones[0].model_copy(update={"number": phone})
    consumer = opened.consumer.model_copy(
        update={"state": state_code, "zip_code": zip_code, "phones": (number,)}
    )
    state = AccountState(account_id=opened.account_id)
    apply_account(state, opened.model_copy(update={"consumer": consumer}))
    planned = STREAM.planned(1, 1)
    step = planned.step.model_copy(update={"destination": phone, "send_at": EDT_08})
    return state, planned.model_copy(update={"step": step})


@pytest.mark.parametrize(
    ("state_code", "zip_code", "phone"),
    [
        ("FL", "32501", "+18505550100"),  # Pensacola: Central
        ("IL", "60601", "+13125550100"),  # Chicago
        ("FL", "33101", "+13125550100"),  # Miami address, Chicago number: both count
    ],
)
def test_a_chicago_candidate_waits_for_08_00_cdt_after_the_dst_switch(
    state_code: str, zip_code: str, phone: str
) -> None:
    decider = GateDecider(default_policy())
    state, planned = consumer_at(state_code, zip_code, phone)
    assert "America/Chicago" in (decider.zones_for(state) or ())
    for now in (datetime(2026, 3, 10, 11, tzinfo=UTC), EDT_08, EDT_08.replace(minute=11)):
        decided = decider(planned, "e1", state, now).event
        assert decided.decision.value == "defer"
        assert decided.not_before == CDT_08
    assert decider(planned, "e1", state, CDT_08).event.decision.value == "allow"


def test_a_miami_consumer_with_a_miami_number_is_eastern_only() -> None:
    decider = GateDecider(default_policy())
    state, planned = consumer_at("FL", "33101", "+13055556995")
    assert decider.zones_for(state) == ("America/New_York",)
    early = decider(planned, "e1", state, datetime(2026, 3, 10, 11, 59, tzinfo=UTC)).event
    assert early.not_before == EDT_08
    assert decider(planned, "e1", state, EDT_08.replace(minute=11)).event.decision.value == "allow"
