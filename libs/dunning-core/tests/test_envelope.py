from __future__ import annotations

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage
from dunning_core.contracts import EnvelopeError, decode, encode, wrap
from dunning_core.contracts.envelope import sdk_decode, sdk_encode

from .factories import account_opened, step_planned

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_round_trip_keeps_every_attribute() -> None:
    envelope = wrap(step_planned(), "scheduler", traceparent=TRACEPARENT)
    key, value, headers = encode(envelope)
    assert key == b"acc-1"
    assert decode(key, value, headers) == envelope


def test_binary_mode_headers() -> None:
    envelope = wrap(account_opened(), "ledger")
    _, _, headers = encode(envelope)
    names = dict(headers)
    assert names["ce_specversion"] == b"1.0"
    assert names["ce_type"] == b"account.opened.v1"
    assert names["ce_subject"] == b"acc-1"
    assert names["content-type"] == b"application/json"
    assert names["ce_source"] == b"urn:dunning:ledger"


def test_fast_path_writes_what_the_sdk_writes() -> None:
    envelope = wrap(step_planned(), "scheduler", traceparent=TRACEPARENT)
    key, value, headers = encode(envelope)
    reference = sdk_encode(envelope)
    assert reference.value == value
    assert reference.key == key.decode()
    assert reference.headers == {k: v for k, v in headers if k != "traceparent"}


def test_sdk_reads_what_we_write_and_we_read_what_the_sdk_writes() -> None:
    envelope = wrap(step_planned(), "scheduler", traceparent=TRACEPARENT)
    key, value, headers = encode(envelope)
    event = sdk_decode(KafkaMessage(dict(headers), key, value))
    assert event.get_id() == envelope.id
    assert event.get_type() == "step.planned.v1"
    reference = sdk_encode(envelope)
    assert decode(key, reference.value, list(reference.headers.items())) == envelope


def test_ids_default_to_the_natural_key() -> None:
    assert wrap(step_planned(), "a").id == wrap(step_planned(), "b").id
    assert wrap(step_planned(), "a").id != wrap(step_planned(attempt=2), "a").id


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda h: [x for x in h if x[0] != "ce_id"], "missing header ce_id"),
        (
            lambda h: [(k, b"nope.v9" if k == "ce_type" else v) for k, v in h],
            "unknown ce_type 'nope.v9'",
        ),
        (
            lambda h: [(k, b"0.3" if k == "ce_specversion" else v) for k, v in h],
            "unsupported ce_specversion",
        ),
        (lambda h: [(k, b"other" if k == "ce_subject" else v) for k, v in h], "ce_subject"),
    ],
)
def test_bad_headers_are_named(mutate: object, message: str) -> None:
    key, value, headers = encode(wrap(step_planned(), "scheduler"))
    with pytest.raises(EnvelopeError, match=message):
        decode(key, value, mutate(headers), where="t[0]@5")  # type: ignore[operator]


def test_bad_data_names_the_field_and_the_place() -> None:
    key, value, headers = encode(wrap(step_planned(), "scheduler"))
    broken = value.replace(b'"attempt":1', b'"attempt":0')
    with pytest.raises(EnvelopeError, match=r"t\[0\]@5: step.planned.v1 field step.attempt"):
        decode(key, broken, headers, where="t[0]@5")


def test_key_must_be_the_account_id() -> None:
    _, value, headers = encode(wrap(step_planned(), "scheduler"))
    with pytest.raises(EnvelopeError, match="key"):
        decode(b"someone-else", value, headers)


def test_not_json_is_an_envelope_error() -> None:
    key, _, headers = encode(wrap(step_planned(), "scheduler"))
    with pytest.raises(EnvelopeError, match=r"step\.planned\.v1"):
        decode(key, b"{not json", headers)
