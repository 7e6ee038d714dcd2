"""The consumer's wishes and status: opt-outs, restricted media, cease requests,
attorney representation, disputes, bankruptcy, death. All block.

Opt-outs are honoured at once (the law allows up to 10 business days). An opt-out is
scoped to its channel and address; it comes from a recorded opt-out, from an inbound
message whose words opt out (see `keywords`), or from a provider error that means the
recipient opted out (Twilio 21610); a later opt-in (START) on the same channel and
address lifts the last two kinds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from dunning_gate.domain.context import RuleContext
from dunning_gate.domain.decision import RuleOutcome
from dunning_gate.domain.keywords import classify_inbound

# Notice kinds that 1692c(c) still allows after a cease request.
CEASE_EXEMPT_STAGES: Final = frozenset({"collection_ending", "specific_remedy"})
_NOT_COLLECTION: Final = frozenset({"collection_ending"})


def _same_address(a: str, b: str) -> bool:
    return a == b or a.lower() == b.lower()


def deceased(ctx: RuleContext) -> RuleOutcome | None:
    if ctx.facts.consumer.deceased:
        return ctx.block("deceased", "the consumer is deceased (estate handling is out of scope)")
    return None


def bankruptcy_stay(ctx: RuleContext) -> RuleOutcome | None:
    if ctx.facts.consumer.bankruptcy_filed:
        return ctx.block("bankruptcy.stay", "bankruptcy filed: the automatic stay applies")
    return None


def attorney_represented(ctx: RuleContext) -> RuleOutcome | None:
    if ctx.facts.consumer.attorney_represented:
        return ctx.block(
            "attorney.represented", "the consumer is represented by an attorney: contact them"
        )
    return None


def cease_requested(ctx: RuleContext) -> RuleOutcome | None:
    if ctx.facts.consumer.cease_requested and ctx.step.stage not in CEASE_EXEMPT_STAGES:
        return ctx.block(
            "cease.requested",
            "the consumer asked us to stop: only a collection-ending or specific-remedy "
            "notice may go",
            stage=ctx.step.stage,
        )
    return None


def dispute_pending(ctx: RuleContext) -> RuleOutcome | None:
    """A written dispute (or original-creditor request) within the validation period,
    verification not yet sent, stops collection of the debt (1692g(b))."""
    if ctx.step.stage in _NOT_COLLECTION:
        return None
    facts = ctx.facts
    needs_writing = ctx.policy.validation.federal_dispute_requires_writing
    period_end = facts.validation_period_end
    for dispute in facts.debt.disputes:
        if dispute.status != "pending" or (needs_writing and not dispute.written):
            continue
        # No validation notice yet: the period has not even started, so it is "within".
        if period_end is None or dispute.received_at < period_end:
            return ctx.block(
                "dispute.pending",
                "a dispute received within the validation period awaits verification",
                received_at=dispute.received_at,
                kind=dispute.kind,
                validation_period_end=period_end if period_end else None,
            )
    return None


def ma_dispute(ctx: RuleContext) -> RuleOutcome | None:
    """Massachusetts: any dispute, at any time, stops collection until verified."""
    if ctx.facts.consumer.state != "MA" or ctx.step.stage in _NOT_COLLECTION:
        return None
    pending = [d for d in ctx.facts.debt.disputes if d.status == "pending"]
    if pending:
        return ctx.block(
            "state.ma.dispute",
            "Massachusetts: a dispute awaits verification",
            received_at=pending[0].received_at,
        )
    return None


def _inbound_opt_out(ctx: RuleContext) -> str | None:
    """The source of the opt-out now in force on the step's channel and address, if any."""
    facts = ctx.facts
    channel, destination = ctx.step.channel, ctx.step.destination
    keywords = ctx.policy.keywords
    latest: tuple[datetime, str] | None = None
    for message in facts.consumer.inbound_messages:
        if message.channel != channel or not _same_address(message.from_address, destination):
            continue
        intent = classify_inbound(message.text, keywords)
        if intent is not None and (latest is None or message.received_at >= latest[0]):
            latest = (message.received_at, intent)
    codes = keywords.opt_out_provider_error_codes
    if codes:
        for attempt in facts.history.attempts:
            if (
                attempt.provider_error_code in codes
                and attempt.channel == channel
                and _same_address(attempt.destination, destination)
                and (latest is None or attempt.at >= latest[0])
            ):
                latest = (attempt.at, f"provider_error:{attempt.provider_error_code}")
    if latest is None or latest[1] == "opt_in":
        return None
    return "inbound_keyword" if latest[1] == "opt_out" else latest[1]


def optout_channel(ctx: RuleContext) -> RuleOutcome | None:
    channel, destination = ctx.step.channel, ctx.step.destination
    for opt_out in ctx.facts.consumer.opt_outs:
        if opt_out.revoked_at is not None and opt_out.revoked_at <= ctx.at:
            continue
        if (opt_out.channel is None or opt_out.channel == channel) and (
            opt_out.address is None or _same_address(opt_out.address, destination)
        ):
            return ctx.block(
                "optout.channel",
                f"the consumer opted out of {opt_out.channel or 'every channel'}",
                source=opt_out.source,
                scope="address" if opt_out.address else "channel",
            )
    if ctx.facts.consumer.inbound_messages or ctx.facts.history.attempts:
        source = _inbound_opt_out(ctx)
        if source is not None:
            return ctx.block(
                "optout.channel",
                f"the consumer opted out of {channel} at this address",
                source=source,
                scope="address",
            )
    return None


def medium_restricted(ctx: RuleContext) -> RuleOutcome | None:
    channel, destination = ctx.step.channel, ctx.step.destination
    for restriction in ctx.facts.consumer.restricted_media:
        if (restriction.channel is None or restriction.channel == channel) and (
            restriction.address is None or _same_address(restriction.address, destination)
        ):
            return ctx.block(
                "medium.restricted",
                "the consumer asked us not to use this medium or address",
                restricted_channel=restriction.channel,
                scope="address" if restriction.address else "channel",
            )
    return None
