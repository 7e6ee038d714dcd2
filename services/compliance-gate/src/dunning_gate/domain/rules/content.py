"""Content rules: the exact rendered message is vetted against the policy's phrase lists.

All block. Text is matched after normalisation (case, accents, punctuation; whole words),
so the lists in the policy are written plainly. Legal-action language is found by
phrase (statements that no suit will come are removed first) and, by policy, implied by
the legal-warning stage itself.
"""

from __future__ import annotations

import re
from datetime import date

from dunning_gate.domain.context import RuleContext
from dunning_gate.domain.decision import RuleOutcome
from dunning_gate.policy.model import PhraseGroups
from dunning_gate.policy.phrases import padded
from dunning_gate.policy.vocabulary import CALL_CHANNELS, RuleId


def _lacking(
    ctx: RuleContext, rule_id: RuleId, explanation: str, groups: PhraseGroups
) -> RuleOutcome | None:
    """A block when the message matches not every group of `groups`, naming for each
    unmatched group its first phrase (as an example of what is missing)."""
    text = ctx.facts.text
    missing = [
        group[0].strip() for group in groups.all_of if not any(phrase in text for phrase in group)
    ]
    return ctx.block(rule_id, explanation, missing=missing) if missing else None


def _header(ctx: RuleContext, name: str) -> str | None:
    for key, value in ctx.step.content.headers.items():
        if key.lower() == name:
            return value
    return None


def optout_notice(ctx: RuleContext) -> RuleOutcome | None:
    """sms and email carry a clear, simple way to opt out (1006.6(e))."""
    channel = ctx.step.channel
    if channel not in ("sms", "email"):
        return None
    settings = ctx.policy.content.opt_out_notice
    phrases = settings.sms if channel == "sms" else settings.email
    found = ctx.facts.has_phrase(phrases)
    if found is None:
        return ctx.block(
            "content.optout_notice",
            f"the message lacks an opt-out notice such as {phrases[0].strip()!r}",
        )
    if channel == "email" and settings.email_requires_link:
        return _unsubscribe_link(ctx, found, settings.email_unsubscribe_url_prefixes)
    return None


_URL = re.compile(r"https://[^\s<>\"')]+", re.IGNORECASE)


def _unsubscribe_link(
    ctx: RuleContext, phrase: str, prefixes: tuple[str, ...]
) -> RuleOutcome | None:
    """The body must carry OUR unsubscribe link: the List-Unsubscribe https target, or a
    link under one of the policy's unsubscribe URL prefixes. Any other link (a payment
    link, say) is not a way to stop the messages."""
    body = ctx.step.content.body
    header = _header(ctx, "list-unsubscribe") or ""
    targets = [url.rstrip(".,;") for url in _URL.findall(header)]
    links = list(dict.fromkeys(url.rstrip(".,;") for url in _URL.findall(body)))
    for link in links:
        if link in targets or any(link.lower().startswith(p.lower()) for p in prefixes):
            return None
    return ctx.block(
        "content.optout_notice",
        "the email has no unsubscribe link of ours in its body (the List-Unsubscribe target)",
        phrase=phrase,
        links_in_body=links,
        list_unsubscribe=targets,
    )


def mini_miranda(ctx: RuleContext) -> RuleOutcome | None:
    """First communication: "attempting to collect a debt ... used for that purpose";
    later ones: "from a debt collector" (1692e(11); 1006.18(e)). Only a voicemail can be
    a limited-content message; texts never are."""
    step = ctx.step
    if step.limited_content and step.channel in CALL_CHANNELS:
        return None
    settings = ctx.policy.content.mini_miranda
    first = step.is_first_communication
    groups = settings.first_communication if first else settings.later_communication
    kind = "first communication" if first else "later communication"
    return _lacking(
        ctx,
        "content.mini_miranda",
        f"the {kind} lacks the required debt-collector disclosure",
        groups,
    )


def _time_barred(ctx: RuleContext) -> tuple[bool, date | None]:
    limitation = ctx.facts.limitation_date
    if limitation is None:
        return True, None
    return max(ctx.facts.local_dates(ctx.at)) >= limitation, limitation


def timebarred_threat(ctx: RuleContext) -> RuleOutcome | None:
    """No suit or threat of suit on a time-barred debt (1006.26(b)); an unknown limitation
    date counts as time-barred here."""
    threat = ctx.facts.threat_phrase
    if threat is None:
        return None
    barred, limitation = _time_barred(ctx)
    ctx.note("limitation_date", limitation)
    if barred:
        return ctx.block(
            "content.timebarred_threat",
            "legal action threatened on a debt that is time-barred"
            + (" (limitation date unknown)" if limitation is None else ""),
            threat=threat,
            limitation_date=limitation,
        )
    return None


def unauthorized_threat(ctx: RuleContext) -> RuleOutcome | None:
    """No legal-action language unless legal action is authorised (1692e(4),(5))."""
    threat = ctx.facts.threat_phrase
    if threat is not None and not ctx.facts.debt.legal_action_authorized:
        return ctx.block(
            "content.unauthorized_threat",
            "legal action mentioned but not authorised for this debt",
            threat=threat,
        )
    return None


def overshadowing(ctx: RuleContext) -> RuleOutcome | None:
    """During the validation period, nothing that undercuts the right to dispute
    (1006.38(b)). Before any validation notice the period has not run: it counts as in."""
    period_end = ctx.facts.validation_period_end
    if period_end is not None and ctx.at >= period_end:
        return None
    found = ctx.facts.has_phrase(ctx.policy.content.overshadowing)
    if found is not None:
        return ctx.block(
            "content.overshadowing",
            "content that overshadows the right to dispute, during the validation period",
            phrase=found,
            validation_period_end=period_end if period_end else None,
        )
    return None


def ca_license(ctx: RuleContext) -> RuleOutcome | None:
    """California: licence number on written/digital messages; the Rosenthal notice in the
    first written notice (Cal. Civ. Code 1788.11, 1812.700)."""
    settings = ctx.policy.states.ca
    step = ctx.step
    if ctx.facts.consumer.state != "CA" or step.channel not in settings.license_channels:
        return None
    licence = ctx.facts.debt.ca_license_number
    if not licence:
        return ctx.block("state.ca.license", "no California licence number for this debt")
    wanted = padded(licence)
    if not wanted.strip() or wanted not in ctx.facts.text:
        return ctx.block("state.ca.license", "the California licence number is not in the message")
    first_written = (
        step.is_first_written_notice
        if step.is_first_written_notice is not None
        else step.is_first_communication
    )
    if first_written:
        lacks = "the first written notice lacks the Rosenthal Act notice"
        return _lacking(ctx, "state.ca.license", lacks, settings.rosenthal_notice)
    return None


def one_click_unsubscribe(ctx: RuleContext) -> RuleOutcome | None:
    """Email: RFC 8058 one-click unsubscribe headers (Gmail/Yahoo bulk-sender rules)."""
    if ctx.step.channel != "email":
        return None
    link = _header(ctx, "list-unsubscribe")
    post = _header(ctx, "list-unsubscribe-post")
    expected = ctx.policy.content.one_click_post_value
    problems = []
    if link is None or "<https://" not in link.lower():
        problems.append("List-Unsubscribe with an https URL")
    if post is None or post.strip().lower() != expected.lower():
        problems.append(f"List-Unsubscribe-Post: {expected}")
    if problems:
        return ctx.block(
            "email.one_click_unsubscribe", "missing " + " and ".join(problems), missing=problems
        )
    return None
