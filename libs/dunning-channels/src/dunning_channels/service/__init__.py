"""The use cases of every channel worker: sending approved steps (``send``, its retries
in ``retries``), what is published about them (``reports``), and the consumers' signals
kept as suppressions, acknowledged after the calls they came too late for (``signals``),
and what every provider's webhooks do alike (``webhooks``)."""

from dunning_channels.service.reports import Reports
from dunning_channels.service.send import SendApprovals
from dunning_channels.service.signals import Fence, SuppressOnSignals
from dunning_channels.service.webhooks import ProviderWebhooks

__all__ = ["Fence", "ProviderWebhooks", "Reports", "SendApprovals", "SuppressOnSignals"]
