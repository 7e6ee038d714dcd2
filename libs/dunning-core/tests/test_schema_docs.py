"""The generated docs are current, and no v1 model changed incompatibly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from dunning_core.contracts.events import ALL_EVENTS
from dunning_core.contracts.schema import event_schema, render_all

REPO = Path(__file__).resolve().parents[3]
DOCS = REPO / "docs" / "contracts"
SNAPSHOTS = Path(__file__).parent / "snapshots"


def test_generated_docs_are_not_stale() -> None:
    for name, content in render_all().items():
        path = DOCS / name
        assert path.exists(), f"{path} missing: run `make contracts`"
        assert path.read_bytes() == content, f"{path} is stale: run `make contracts`"


def incompatibilities(old: dict[str, Any], new: dict[str, Any], where: str = "") -> list[str]:
    """What a reader of ``old`` would break on when it meets data written by ``new``."""
    problems: list[str] = []
    old_props = old.get("properties", {})
    new_props = new.get("properties", {})
    for name in old_props:
        if name not in new_props:
            problems.append(f"{where}{name}: removed")
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"{where}{name}: newly required")
    for name, spec in old_props.items():
        if name in new_props and spec.get("type") != new_props[name].get("type"):
            problems.append(
                f"{where}{name}: type {spec.get('type')} -> {new_props[name].get('type')}"
            )
        if name in new_props and "enum" in spec and "enum" in new_props[name]:
            dropped = set(spec["enum"]) - set(new_props[name]["enum"])
            if dropped:
                problems.append(f"{where}{name}: enum values removed {sorted(dropped)}")
    for name, sub in old.get("$defs", {}).items():
        if name in new.get("$defs", {}):
            problems += incompatibilities(sub, new["$defs"][name], f"{where}{name}.")
    return problems


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.event_type)
def test_no_incompatible_change_against_snapshot(event: Any) -> None:
    snapshot = SNAPSHOTS / f"{event.event_type}.json"
    assert snapshot.exists(), f"no snapshot for {event.event_type}: run `make contracts-snapshot`"
    old = orjson.loads(snapshot.read_bytes())
    assert incompatibilities(old, event_schema(event)) == []


def test_the_checker_catches_a_removed_field_and_a_new_required_one() -> None:
    old = {"properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "required": ["a"]}
    new = {
        "properties": {"a": {"type": "integer"}, "c": {"type": "string"}},
        "required": ["a", "c"],
    }
    assert sorted(incompatibilities(old, new)) == [
        "a: type string -> integer",
        "b: removed",
        "c: newly required",
    ]
