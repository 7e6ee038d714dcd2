"""Payment link tokens: round trip, determinism, and every way a token is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dunning_core.contracts.ids import step_id
from dunning_core.paylink import PayLink, Refusal, read, sign, verify
from hypothesis import given
from hypothesis import strategies as st

KEY = "paylink-key-for-the-unit-tests"
NOW = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=30)
STEP = step_id("ACC-000682", "D-1", "reminder", "sms", 1)


def test_a_token_names_the_account_and_step_until_it_expires() -> None:
    token = sign("ACC-000682", STEP, EXPIRES, KEY)
    assert verify(token, KEY, NOW) == ("ACC-000682", STEP)
    assert read(token, KEY, NOW) == PayLink("ACC-000682", STEP, EXPIRES)
    assert verify(token, KEY, EXPIRES - timedelta(seconds=1)) == ("ACC-000682", STEP)


def test_the_same_step_gives_the_same_short_url_safe_token() -> None:
    token = sign("ACC-000682", STEP, EXPIRES, KEY)
    assert token == sign("ACC-000682", STEP, EXPIRES, KEY)
    assert token != sign("ACC-000682", STEP, EXPIRES + timedelta(seconds=1), KEY)
    assert len(token) <= 64  # fits an SMS link
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_an_expired_token_is_refused_as_expired() -> None:
    token = sign("ACC-000682", STEP, EXPIRES, KEY)
    assert verify(token, KEY, EXPIRES) is Refusal.EXPIRED
    assert verify(token, KEY, EXPIRES + timedelta(days=1)) is Refusal.EXPIRED


def test_a_token_under_another_key_is_forged() -> None:
    token = sign("ACC-000682", STEP, EXPIRES, "another-key")
    assert verify(token, KEY, NOW) is Refusal.FORGED
    # even once expired: an unsigned token says nothing, not even that it expired
    assert verify(token, KEY, EXPIRES + timedelta(days=1)) is Refusal.FORGED


def test_a_tampered_payload_or_mac_is_forged() -> None:
    token = sign("ACC-000682", STEP, EXPIRES, KEY)
    other = sign("ACC-000683", STEP, EXPIRES, KEY)
    payload, mac = token[:-16], token[-16:]
    assert verify(other[:-16] + mac, KEY, NOW) is Refusal.FORGED
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    assert verify(flipped + mac, KEY, NOW) is Refusal.FORGED
    assert verify(payload + mac[:-1], KEY, NOW) is Refusal.FORGED
    assert verify(token + ".", KEY, NOW) is Refusal.FORGED


@pytest.mark.parametrize(
    "token", ["", ".", "abc", "abc.def", "!!!.???", "a.b.c", "ÿ.ÿ", "A" * 16, "A" * 40, "=" * 30]
)
def test_garbage_is_forged(token: str) -> None:
    assert verify(token, KEY, NOW) is Refusal.FORGED


def test_any_step_id_round_trips() -> None:
    for step in ("manual-1", "stp_not-a-uuid", f"{STEP}x", STEP.upper()):
        assert verify(sign("A-1", step, EXPIRES, KEY), KEY, NOW) == ("A-1", step)


def test_naive_expiry_and_empty_ids_are_refused_at_signing() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        sign("A-1", STEP, datetime(2026, 12, 6), KEY)
    with pytest.raises(ValueError, match="account_id"):
        sign("", STEP, EXPIRES, KEY)


@given(
    account=st.text(min_size=1, max_size=60).filter(lambda s: len(s.encode()) < 256),
    step=st.text(min_size=1, max_size=80).filter(lambda s: len(s.encode()) < 256),
)
def test_round_trip_of_any_ids(account: str, step: str) -> None:
    assert verify(sign(account, step, EXPIRES, KEY), KEY, NOW) == (account, step)
