"""Shared runtime: settings, clock, logging with PII masking, Kafka producer and consumer loop.

Errors raised by handlers are drawn in two roots (see ``errors``): ``TransientError``
(retried with capped exponential backoff and jitter, offsets not committed) and
``PermanentError`` (the record goes to ``<topic>.dlq`` with the reason; the loop moves on).
"""
