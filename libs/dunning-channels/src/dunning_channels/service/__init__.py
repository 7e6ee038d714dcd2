"""The use cases of every channel worker: sending approved steps (``send``), and what is
published about them (``reports``)."""

from dunning_channels.service.reports import Reports
from dunning_channels.service.send import SendApprovals

__all__ = ["Reports", "SendApprovals"]
