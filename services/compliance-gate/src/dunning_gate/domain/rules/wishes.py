"""The consumer's wishes and status: opt-outs, restricted media, cease requests,
attorney representation, disputes, bankruptcy, death; and an operator's pause of the
account (not a law, but as binding here). All block.

Opt-outs are honoured at once (the law allows up to 10 business days). An opt-out is
scoped to its channel and address; it comes from a recorded opt-out, from an inbound
message that opts out, or from a provider error that means the recipient opted out
(Twilio 21610); a later opt-in (START) on the same channel and address lifts the last
two kinds.

Inbound messages are read by the one classifier the channel workers use (`dunning_replies`),
so the what-if says what production does: `opt_out` blocks the message's channel and
address, `opt_out_all` (STOPALL) every channel, `opt_in` lifts them on its own channel and
address ("YES" counts only right after an opt-out), and `wrong_number` restricts that
address for good (the number was reassigned).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Final

from dunning_replies import Intent, classify

from dunning_gate.domain.context import RuleContext
from dunning_gate.domain.decision import RuleOutcome
from dunning_gate.domain.request import Consumer
from dunning_gate.policy.vocabulary import RuleId

# Notice kinds that 1692c(c) still allows after a cease request.
CEASE_EXEMPT_STAGES: Final = frozenset({"collection_ending", "specific_remedy"})
_NOT_COLLECTION: Final = frozenset({"collection_ending"})


def _same_address(a: str, b: str) -> bool:
    return a == b or a.lower() == b.lower()


def _blocks_while(
    flagged: Callable[[Consumer], bool], rule_id: RuleId, explanation: str
) -> Callable[[RuleContext], RuleOutcome | None]:
    """A rule that blocks every step while the consumer's record carries one status."""

    def rule(ctx: RuleContext) -> RuleOutcome | None:
        if flagged(ctx.facts.consumer):
            return ctx.block(rule_id, explanation)
        return None

    return rule


deceased: Final = _blocks_while(
    lambda c: c.deceased, "deceased", "the consumer is deceased (estate handling is out of scope)"
)
# An operator paused outreach to the account: nothing goes until it is resumed.
operator_paused: Final = _blocks_while(
    lambda c: c.outreach_paused, "operator.paused", "an operator paused outreach to this account"
)
bankruptcy_stay: Final = _blocks_while(
    lambda c: c.bankruptcy_filed, "bankruptcy.stay", "bankruptcy filed: the automatic stay applies"
)
attorney_represented: Final = _blocks_while(
    lambda c: c.attorney_represented,
    "attorney.represented",
    "the consumer is represented by an attorney: contact them",
)


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


# The intents the rules read do not depend on the clock (only a promise's date does), so
# the reading is pinned to one instant and cached: classifying costs ~1 ms, and the same
# few messages come with every evaluation of an account.
_READ_AT: Final = datetime(2000, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=8192)
def inbound_intent(text: str, after_opt_out: bool = False) -> Intent:
    """The shared classifier's intent for one inbound message."""
    return classify(text, now=_READ_AT, after_opt_out=after_opt_out).intent


def _inbound_opt_out(ctx: RuleContext) -> tuple[str, str] | None:
    """The source and scope of the opt-out now in force on the step's channel and address."""
    facts = ctx.facts
    channel, destination = ctx.step.channel, ctx.step.destination
    latest: tuple[datetime, str] | None = None
    opted_out: set[tuple[str, str]] = set()  # (channel, address) whose last word opted out
    for message in sorted(facts.consumer.inbound_messages, key=lambda m: m.received_at):
        sender = (message.channel, message.from_address.lower())
        intent = inbound_intent(message.text, sender in opted_out)
        if intent in ("opt_out", "opt_out_all"):
            opted_out.add(sender)
        elif intent == "opt_in":
            opted_out.discard(sender)
        here = message.channel == channel and _same_address(message.from_address, destination)
        if intent == "opt_out_all" or (here and intent in ("opt_out", "opt_in")):
            latest = (message.received_at, intent)
    codes = ctx.policy.keywords.opt_out_provider_error_codes
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
    if latest[1] == "opt_out_all":
        return "inbound_keyword", "every_channel"
    return ("inbound_keyword" if latest[1] == "opt_out" else latest[1]), "address"


def _wrong_number(ctx: RuleContext) -> bool:
    """The consumer wrote from the step's address that it is not theirs."""
    channel, destination = ctx.step.channel, ctx.step.destination
    return any(
        message.channel == channel
        and _same_address(message.from_address, destination)
        and inbound_intent(message.text) == "wrong_number"
        for message in ctx.facts.consumer.inbound_messages
    )


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
        found = _inbound_opt_out(ctx)
        if found is not None:
            source, scope = found
            where = "every channel" if scope == "every_channel" else f"{channel} at this address"
            return ctx.block(
                "optout.channel", f"the consumer opted out of {where}", source=source, scope=scope
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
    if ctx.facts.consumer.inbound_messages and _wrong_number(ctx):
        return ctx.block(
            "medium.restricted",
            "the consumer replied that this is a wrong number: it was reassigned",
            restricted_channel=channel,
            scope="address",
            source="inbound_wrong_number",
        )
    return None
