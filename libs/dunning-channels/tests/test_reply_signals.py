"""A reply becomes the same signals whichever channel it came by (sms, email)."""

from __future__ import annotations

from datetime import UTC, datetime

from dunning_channels.domain.replies import UNATTRIBUTED, read_inbound, reply_signals
from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import ConsumerSignaled, SignalKind

NOW = datetime(2026, 3, 3, 16, tzinfo=UTC)


def signals(
    text: str, owners: set[str], channel: Channel = Channel.EMAIL
) -> list[tuple[ConsumerSignaled, bool]]:
    meaning = read_inbound(text, now=NOW)
    return reply_signals(
        meaning,
        owners,
        channel=channel,
        source="email" if channel is Channel.EMAIL else "sms",
        address="jane@example.com" if channel is Channel.EMAIL else "+12125550123",
        text=text,
        signal_id="sig-1",
        now=NOW,
        details=meaning.details,
    )


def test_one_signal_per_owner_with_the_classifiers_intent() -> None:
    out = signals("I can't pay now, can I make smaller payments?", {"ACC-2", "ACC-1"})
    assert [(s.account_id, s.kind, s.details["intent"], dl) for s, dl in out] == [
        ("ACC-1", SignalKind.REPLIED, "plan", False),
        ("ACC-2", SignalKind.REPLIED, "plan", False),
    ]


def test_stopall_reaches_every_channel() -> None:
    out = signals("STOPALL", {"ACC-1"}, Channel.SMS)
    assert [(s.channel, s.address) for s, _ in out][1:] == [(c, None) for c in Channel]
    assert {s.kind for s, _ in out} == {SignalKind.OPTED_OUT}


def test_no_owner_dead_letters_and_a_long_reply_is_cut() -> None:
    [(signal, dead_letter)] = signals("x" * 5000, set())
    assert dead_letter
    assert signal.account_id == UNATTRIBUTED
    assert len(signal.text or "") == 2000
