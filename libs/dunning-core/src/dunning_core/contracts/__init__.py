"""Event contracts: typed models, topics, keys, envelope and deterministic ids."""

from dunning_core.contracts.common import Channel, MessageContent, Money, Stage
from dunning_core.contracts.envelope import Envelope, EnvelopeError, decode, encode, wrap
from dunning_core.contracts.events import (
    ALL_EVENTS,
    AccountOpened,
    AccountUpdated,
    ConsumerSignaled,
    Decision,
    DeliveryStatus,
    DeliveryUpdated,
    Event,
    OutreachStep,
    PaymentReceived,
    PlanAgreed,
    RuleFinding,
    SignalKind,
    StepApproved,
    StepDecided,
    StepPlanned,
)
from dunning_core.contracts.ids import event_id, step_id

__all__ = [
    "ALL_EVENTS",
    "AccountOpened",
    "AccountUpdated",
    "Channel",
    "ConsumerSignaled",
    "Decision",
    "DeliveryStatus",
    "DeliveryUpdated",
    "Envelope",
    "EnvelopeError",
    "Event",
    "MessageContent",
    "Money",
    "OutreachStep",
    "PaymentReceived",
    "PlanAgreed",
    "RuleFinding",
    "SignalKind",
    "Stage",
    "StepApproved",
    "StepDecided",
    "StepPlanned",
    "decode",
    "encode",
    "event_id",
    "step_id",
    "wrap",
]
