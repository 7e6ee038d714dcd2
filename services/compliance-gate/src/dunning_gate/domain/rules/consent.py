"""Address and consent: tcpa.consent, address.basis, email.workplace, state.nyc.econsent.

All block. The destination must be on file with the consumer: a number or address the
gate knows nothing about has, by definition, no consent and no basis on record.
"""

from __future__ import annotations

from datetime import timedelta

from dunning_gate.domain.context import RuleContext
from dunning_gate.domain.decision import RuleOutcome
from dunning_gate.policy.vocabulary import PHONE_CHANNELS

_OWN_BASES = frozenset({"consumer_used", "consented"})


def tcpa_consent(ctx: RuleContext) -> RuleOutcome | None:
    """Prior express consent for the number (47 USC 227(b)(1)(A)(iii); FCC 07-232)."""
    if ctx.step.channel not in PHONE_CHANNELS:
        return None
    phone = ctx.facts.phone
    if phone is None:
        return ctx.block("tcpa.consent", "the number is not on file: no consent on record")
    ctx.note("consent_source", phone.consent)
    if phone.consent not in ctx.policy.consent.tcpa_sources:
        return ctx.block(
            "tcpa.consent",
            "no prior express consent on record for this number",
            consent_source=phone.consent,
        )
    return None


def address_basis(ctx: RuleContext) -> RuleOutcome | None:
    """Reg F safe-harbour basis for the email address or text number (1006.6(d)(3)-(5))."""
    channel = ctx.step.channel
    if channel not in ("email", "sms"):
        return None
    facts = ctx.facts
    record = facts.email if channel == "email" else facts.phone
    if record is None:
        return ctx.block("address.basis", f"the {channel} address is not on file: no basis")
    settings = ctx.policy.consent
    today = min(facts.local_dates(ctx.at)) if len(facts.zones) > 1 else facts.local_date(ctx.at)
    ctx.note("address_basis", record.basis)
    if record.basis == "creditor_notice":
        if record.basis_on is None:
            return ctx.block(
                "address.basis", "creditor notice recorded without its date", basis=record.basis
            )
        usable_from = record.basis_on + timedelta(days=settings.address_basis_notice_days)
        if today < usable_from:
            return ctx.block(
                "address.basis",
                f"the creditor's notice opt-out window ({settings.address_basis_notice_days} "
                "days) has not passed",
                basis=record.basis,
                notice_on=record.basis_on,
                usable_from=usable_from,
            )
    elif record.basis not in _OWN_BASES:
        return ctx.block("address.basis", "no recorded basis for this address", basis=record.basis)
    if channel == "sms":
        checked = facts.phone.reassigned_checked_on if facts.phone else None
        max_age = settings.reassigned_check_max_age_days
        ctx.note("reassigned_checked_on", checked if checked else None)
        if checked is None or (today - checked).days > max_age:
            return ctx.block(
                "address.basis",
                f"no reassigned-numbers check within the last {max_age} days",
                reassigned_checked_on=checked if checked else None,
            )
    return None


def email_workplace(ctx: RuleContext) -> RuleOutcome | None:
    """No email to an employer-provided address unless the consumer used or consented to it
    (1006.22(f)(3))."""
    email = ctx.facts.email
    if email is not None and email.workplace and email.basis not in _OWN_BASES:
        return ctx.block("email.workplace", "the address is employer-provided", basis=email.basis)
    return None


def nyc_econsent(ctx: RuleContext) -> RuleOutcome | None:
    """New York City: written, revocable consent for electronic contact (behind a flag)."""
    nyc = ctx.policy.states.nyc
    if ctx.step.channel not in ("sms", "email") or not nyc.econsent_required:
        return None
    facts = ctx.facts
    if facts.nyc_rules_apply(ctx.at) and not facts.consumer.nyc_electronic_consent:
        return ctx.block(
            "state.nyc.econsent", "New York City consumer without written electronic consent"
        )
    return None
