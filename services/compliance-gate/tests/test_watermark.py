"""The watermark of the gate's state: its format, and when it is behind the committed offsets."""

from __future__ import annotations

import pytest
from dunning_gate.domain.watermark import behind, by_partition, parse, render, stale, went_back


def test_render_is_compact_and_the_same_for_the_same_offsets() -> None:
    a = render({"signals": 7, "accounts": 12})
    b = render({"accounts": 12, "signals": 7})
    assert a == b == '{"accounts":12,"signals":7}'
    assert parse(a) == {"accounts": 12, "signals": 7}
    assert parse(a.encode()) == {"accounts": 12, "signals": 7}
    assert parse(render({})) == {}


@pytest.mark.parametrize(
    "raw", [None, b"", b"1", b"not json", b"[1, 2]", b'{"accounts": "12"}', b'{"a": true}']
)
def test_a_missing_or_unreadable_watermark_means_not_built(raw: bytes | None) -> None:
    assert parse(raw) is None


def test_caught_up_or_ahead_is_not_behind() -> None:
    committed = {"accounts": 10, "planned": 5}
    assert behind({"accounts": 10, "planned": 5}, committed) == {}
    # Saved, then the commit failed or has not happened yet: Redis is ahead, which is fine.
    assert behind({"accounts": 12, "planned": 9, "signals": 3}, committed) == {}


def test_below_a_committed_offset_is_behind() -> None:
    assert behind({"accounts": 10, "planned": 4}, {"accounts": 10, "planned": 5}) == {
        "planned": (4, 5)
    }


def test_a_topic_the_watermark_does_not_name_counts_from_zero() -> None:
    assert behind({"accounts": 10}, {"accounts": 10, "signals": 2}) == {"signals": (0, 2)}
    assert behind({"accounts": 10}, {"accounts": 10, "signals": 0}) == {}


def test_a_topic_never_committed_is_not_judged() -> None:
    assert behind({}, {}) == {}
    assert behind({"accounts": 3}, {}) == {}


def test_stale_names_each_partition_behind_and_its_topics() -> None:
    applied = {0: {"accounts": 10, "signals": 4}, 1: {"accounts": 8}, 2: {}}
    committed = {0: {"accounts": 10, "signals": 6}, 1: {"accounts": 8}, 2: {"planned": 1}}
    assert stale(applied, committed) == {0: {"signals": (4, 6)}, 2: {"planned": (0, 1)}}


def test_stale_judges_only_partitions_with_a_watermark() -> None:
    assert stale({}, {0: {"accounts": 10}}) == {}
    assert stale({1: {"accounts": 1}}, {}) == {}


def test_by_partition_groups_topic_offsets() -> None:
    pairs = [(("accounts", 0), 10), (("signals", 0), 4), (("accounts", 1), 8)]
    assert by_partition(pairs) == {0: {"accounts": 10, "signals": 4}, 1: {"accounts": 8}}


def test_a_watermark_moved_back_or_deleted_under_a_batch_went_back() -> None:
    loaded = {"accounts": 10, "planned": 5}
    assert went_back(loaded, {"accounts": 10, "planned": 4})
    assert went_back(loaded, {"accounts": 10})
    assert went_back(loaded, None)


def test_a_watermark_moved_forward_under_a_batch_did_not_go_back() -> None:
    loaded = {"accounts": 10, "planned": 5}
    assert not went_back(loaded, {"accounts": 12, "planned": 5})
    assert not went_back(loaded, {"accounts": 10, "planned": 5, "signals": 1})
    # A partition being rebuilt has none; whoever wrote one meanwhile did not go back.
    assert not went_back(None, {"accounts": 1})
