"""What every channel worker reads besides the common settings (its own prefix)."""

from __future__ import annotations

from datetime import timedelta

from dunning_core.runtime.settings import CommonSettings
from pydantic import Field

from dunning_channels.domain import (
    CallTimes,
    CircuitBreaker,
    Rate,
    ReconcilePolicy,
    RetryPolicy,
    SendGuard,
)


class ChannelSettings(CommonSettings):
    """A channel's settings: subclasses set ``model_config = service_config("<channel>")``."""

    send_concurrency: int = 32
    group_id: str
    # The webhook ingress answers 503 when the broker has not acknowledged by then
    # (Twilio gives up on a webhook after 15 s).
    ingress_ack_timeout_s: float = Field(default=10.0, gt=0)
    # The retry budget of one step: provider calls, and seconds from the first call.
    retry_max_attempts: int = Field(default=6, ge=1)
    retry_max_seconds: float = Field(default=900.0, gt=0)
    retry_initial_s: float = Field(default=1.0, gt=0)
    retry_max_delay_s: float = Field(default=60.0, gt=0)
    retry_poll_s: float = Field(default=0.25, gt=0)
    # How long a send waits for the worker's signals consumer to apply what is on
    # consumer.signals.v1 (a dispute the ledger recorded) before its try fails and is redone.
    signals_bound_s: float = Field(default=20.0, gt=0)
    # Replicas of the channel's retry journal topic (made by the worker if missing).
    journal_replication: int = Field(default=1, ge=1)
    # The provider's circuit opens when failure_ratio of the last window calls failed
    # (once at least min_calls were made), and half-opens after open_s.
    breaker_window: int = Field(default=50, ge=1)
    breaker_min_calls: int = Field(default=20, ge=1)
    breaker_failure_ratio: float = Field(default=0.5, gt=0, le=1)
    breaker_open_s: float = Field(default=30.0, gt=0)
    # Send rates shared by the replicas (unset: unlimited). The provider's over all
    # senders, and each sender's (e.g. a US long code 1/s, a short code 100/s).
    pace_provider_per_s: float | None = Field(default=None, gt=0)
    pace_sender_per_s: float | None = Field(default=None, gt=0)
    pace_burst: int = Field(default=1, ge=1)
    pace_inline_wait_s: float = Field(default=1.0, ge=0)
    # One provider call's HTTP timeout (wall seconds).
    provider_timeout_s: float = Field(default=10.0, gt=0)
    # No call starts unless it can end before the approval's send_by: the wall seconds a
    # call may take (the provider's p99 latency; each call's timeout is then cut to the
    # time left), times the clock's speed, plus a floor of simulated minutes.
    send_guard_call_s: float = Field(default=1.0, ge=0)
    send_guard_floor_min: float = Field(default=5.0, ge=0)
    # ... and at least ``factor`` times the longest call of the last ``window_s`` wall
    # seconds (from the last check to the answer): a loaded worker's calls take longer.
    send_guard_window_s: float = Field(default=120.0, gt=0)
    send_guard_factor: float = Field(default=2.0, ge=0)
    # A step reserved and not recorded this long (wall s) is reconciled with the provider
    # (kept above the provider timeout); one the provider cannot be asked about for
    # reconcile_give_up_s is reported uncertain.
    reconcile_after_s: float = Field(default=60.0, gt=0)
    reconcile_give_up_s: float = Field(default=900.0, gt=0)
    reconcile_retry_s: float = Field(default=30.0, gt=0)
    reconcile_poll_s: float = Field(default=5.0, gt=0)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.retry_max_attempts,
            max_seconds=self.retry_max_seconds,
            initial_s=self.retry_initial_s,
            maximum_s=self.retry_max_delay_s,
        )

    def circuit_breaker(self) -> CircuitBreaker:
        return CircuitBreaker(
            window=self.breaker_window,
            min_calls=self.breaker_min_calls,
            failure_ratio=self.breaker_failure_ratio,
            open_s=self.breaker_open_s,
        )

    @property
    def call_bound_s(self) -> float:
        """How long a provider call may be on the wire: each is cut at the provider timeout;
        the margin is for a busy event loop. A call never ended stops counting after it."""
        return self.provider_timeout_s * 1.5

    def send_guard(self) -> SendGuard:
        return SendGuard(
            call_s=min(self.send_guard_call_s, self.provider_timeout_s),
            speed=self.clock_speed if self.clock_start is not None else 1.0,
            floor=timedelta(minutes=self.send_guard_floor_min),
        )

    def call_times(self) -> CallTimes:
        return CallTimes(window_s=self.send_guard_window_s, factor=self.send_guard_factor)

    def reconcile_policy(self) -> ReconcilePolicy:
        return ReconcilePolicy(
            settle_s=max(self.reconcile_after_s, 2 * self.provider_timeout_s),
            give_up_s=self.reconcile_give_up_s,
            retry_s=self.reconcile_retry_s,
        )

    def rates(self) -> tuple[Rate | None, Rate | None]:
        """The provider's rate and each sender's, when limited."""
        provider, sender = self.pace_provider_per_s, self.pace_sender_per_s
        return (
            None if provider is None else Rate(provider, self.pace_burst),
            None if sender is None else Rate(sender, self.pace_burst),
        )
