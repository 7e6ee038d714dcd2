"""What a logger writes through the services' JSON formatter, captured for a test."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from dunning_core.runtime.logging import JsonFormatter


@contextmanager
def json_logged(name: str, service: str) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """The logger ``name`` writing JSON lines as ``service`` into the stream, for the block."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(service))
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)
