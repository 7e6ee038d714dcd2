"""JSON Schema and AsyncAPI documents generated from the event models.

``python -m dunning_core.contracts.schema [DIR]`` regenerates them (default
``docs/contracts``); a test fails when the committed copies are stale, and another when a
model changed incompatibly against the stored snapshot.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson

from dunning_core.contracts.events import ALL_EVENTS, Event
from dunning_core.contracts.topics import ALL_TOPICS, dlq, events_on

DEFAULT_DIR = Path("docs/contracts")


def event_schema(event: type[Event]) -> dict[str, Any]:
    schema = event.model_json_schema(mode="serialization")
    schema["$id"] = f"urn:dunning:schema:{event.event_type}"
    schema["x-ce-type"] = event.event_type
    schema["x-topic"] = event.topic
    return schema


def asyncapi() -> dict[str, Any]:
    """An AsyncAPI 3.0 document: one channel per topic, one message per event type."""
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event in ALL_EVENTS:
        messages[event.event_type] = {
            "name": event.event_type,
            "title": event.__name__,
            "summary": (event.__doc__ or "").strip(),
            "contentType": "application/json",
            "bindings": {"kafka": {"key": {"type": "string", "description": "account id"}}},
            "headers": _ce_headers(event.event_type),
            "payload": {"$ref": f"./{event.event_type}.schema.json"},
        }
    for topic in ALL_TOPICS:
        refs = {
            e.event_type: {"$ref": f"#/components/messages/{e.event_type}"}
            for e in events_on(topic)
        }
        channels[topic] = {
            "address": topic,
            "messages": refs,
            "description": f"Keyed by account id. Poison records go to {dlq(topic)}.",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Dunning events",
            "version": "1.0.0",
            "description": "CloudEvents 1.0, Kafka protocol binding, binary mode.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "components": {"messages": messages},
    }


def _ce_headers(event_type: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["ce_id", "ce_type", "ce_source", "ce_specversion", "ce_subject"],
        "properties": {
            "ce_id": {"type": "string", "description": "unique per event; dedupe on it"},
            "ce_type": {"const": event_type},
            "ce_source": {"type": "string"},
            "ce_specversion": {"const": "1.0"},
            "ce_subject": {"type": "string", "description": "the account id"},
            "ce_time": {"type": "string", "format": "date-time"},
            "content-type": {"const": "application/json"},
            "traceparent": {"type": "string", "description": "W3C trace context"},
        },
    }


def render_all() -> dict[str, bytes]:
    """File name → content of every generated document."""
    opts = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
    files = {
        f"{e.event_type}.schema.json": orjson.dumps(event_schema(e), option=opts) + b"\n"
        for e in ALL_EVENTS
    }
    files["asyncapi.json"] = orjson.dumps(asyncapi(), option=opts) + b"\n"
    return files


def write_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in render_all().items():
        path = directory / name
        path.write_bytes(content)
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    directory = Path(argv[1]) if len(argv) > 1 else DEFAULT_DIR
    for path in write_all(directory):
        print(path)  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
