"""What every channel worker reads besides the common settings (its own prefix)."""

from __future__ import annotations

from dunning_core.runtime.settings import CommonSettings


class ChannelSettings(CommonSettings):
    """A channel's settings: subclasses set ``model_config = service_config("<channel>")``."""

    send_concurrency: int = 32
    group_id: str
