"""The candidate zones of an evaluation request's consumer (the tables and lookups are
``dunning_core.time_zones``, shared with the ledger)."""

from __future__ import annotations

from dunning_core.time_zones import DEFAULT_NO_LOCATION_ZONES, zones_of

from dunning_gate.domain.request import Consumer


def candidate_zones(
    consumer: Consumer,
    no_location_zones: tuple[str, ...] = DEFAULT_NO_LOCATION_ZONES,
    destination: str | None = None,
) -> tuple[str, ...]:
    """Every zone the consumer may be in (address, every phone on file, the destination).

    Callers should cache the result per contact point and pass it as
    `Consumer.candidate_zones`; `Consumer.candidate_zones`, when set, is returned as is.
    """
    if consumer.candidate_zones is not None:
        return consumer.candidate_zones or no_location_zones
    numbers = [phone.number for phone in consumer.phones]
    if destination is not None and destination.startswith("+"):
        numbers.append(destination)
    return zones_of(consumer.state, consumer.zip, numbers, no_location_zones)
