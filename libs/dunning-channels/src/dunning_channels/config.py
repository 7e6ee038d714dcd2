"""What every channel worker reads besides the common settings (its own prefix)."""

from __future__ import annotations

from dunning_core.runtime.settings import CommonSettings
from pydantic import Field

from dunning_channels.domain import RetryPolicy


class ChannelSettings(CommonSettings):
    """A channel's settings: subclasses set ``model_config = service_config("<channel>")``."""

    send_concurrency: int = 32
    group_id: str
    # The retry budget of one step: provider calls, and seconds from the first call.
    retry_max_attempts: int = Field(default=6, ge=1)
    retry_max_seconds: float = Field(default=900.0, gt=0)
    retry_initial_s: float = Field(default=1.0, gt=0)
    retry_max_delay_s: float = Field(default=60.0, gt=0)
    retry_poll_s: float = Field(default=0.25, gt=0)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.retry_max_attempts,
            max_seconds=self.retry_max_seconds,
            initial_s=self.retry_initial_s,
            maximum_s=self.retry_max_delay_s,
        )
