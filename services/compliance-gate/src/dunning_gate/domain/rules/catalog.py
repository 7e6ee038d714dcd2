"""What each rule id means, for people: its legal source, what it checks, what it does.

One entry per rule id the gate can name in a decision (the rulebook's ids plus the gate's
own ``input.invalid`` and ``evaluation.error``). ``docs/rules.md`` is rendered from this
catalog (``python -m dunning_gate.rules_doc docs/rules.md``); a test fails when the page is
stale or when a rule of ``RULES`` has no entry here.
"""

from __future__ import annotations

from typing import Final, Literal, NamedTuple

Action = Literal["defer", "block"]


class RuleEntry(NamedTuple):
    rule_id: str
    family: str
    source: str
    channels: str
    checks: str
    action: Action


_ALL = "all"
_ELECTRONIC = "sms, email"

CATALOG: Final[tuple[RuleEntry, ...]] = (
    RuleEntry(
        "hours.fdcpa",
        "Time of day",
        "15 USC 1692c(a)(1); 12 CFR 1006.6(b)(1)(i)",
        _ALL,
        "Contact only from 08:00 to before 21:00 in every candidate time zone of the consumer "
        "(address state and ZIP, phone area code; all US zones when nothing is known).",
        "defer",
    ),
    RuleEntry(
        "hours.consumer_stated",
        "Time of day",
        "12 CFR 1006.6(b)(1)(i)",
        _ALL,
        'Times the consumer said are inconvenient ("not before noon").',
        "defer",
    ),
    RuleEntry(
        "state.fl.hours",
        "Time of day",
        "Fla. Stat. 559.72(17) (2025 amendment exempts email)",
        "sms, voice",
        "Florida: no contact 21:00-08:00 in the debtor's time zone.",
        "defer",
    ),
    RuleEntry(
        "state.ok.prerecorded",
        "Time of day",
        "15 O.S. 755.1",
        "prerecorded voice",
        "Oklahoma: prerecorded calls only 09:00-21:00.",
        "defer",
    ),
    RuleEntry(
        "frequency.calls_7in7",
        "Frequency",
        "12 CFR 1006.14(b)(2)(i)(A)",
        "voice",
        "More than 7 call attempts per person per debt in 7 consecutive days.",
        "defer",
    ),
    RuleEntry(
        "frequency.calls_after_conversation",
        "Frequency",
        "12 CFR 1006.14(b)(2)(i)(B)",
        "voice",
        "Any call within 7 days after a telephone conversation (conversation day = day 1).",
        "defer",
    ),
    RuleEntry(
        "frequency.electronic",
        "Frequency",
        "12 CFR 1006.14(a), comment 14(a)-1.i",
        _ELECTRONIC,
        "The policy's per-consumer, per-debt caps on texts and emails, per channel and across "
        "channels.",
        "defer",
    ),
    RuleEntry(
        "state.ma.frequency",
        "Frequency",
        "940 CMR 7.04(1)(f); 209 CMR 18.16(1)(c)-(d)",
        "voice, sms",
        "Massachusetts: at most 2 collector-initiated calls or texts per 7 days to home or "
        "mobile, 2 per 30 days to other numbers, per debt.",
        "defer",
    ),
    RuleEntry(
        "state.wa.frequency",
        "Frequency",
        "RCW 19.16.250",
        _ALL,
        "Washington: at most 3 contacts per week, 1 per week at work.",
        "defer",
    ),
    RuleEntry(
        "state.nyc.frequency",
        "Frequency",
        "6 RCNY 5-77 as amended (in force from 1 September 2026)",
        _ALL,
        "New York City: at most 3 contacts or attempts per 7 days across all channels, "
        "counted per account.",
        "defer",
    ),
    RuleEntry(
        "optout.channel",
        "Consumer's wishes",
        "12 CFR 1006.6(e); 47 CFR 64.1200(a)(10)-(12); CTIA",
        "the opted-out channel or address",
        "The consumer opted out (STOP and its synonyms, free text read as revocation, an email "
        "unsubscribe, a spam report, provider error 21610). Honoured at once.",
        "block",
    ),
    RuleEntry(
        "medium.restricted",
        "Consumer's wishes",
        "12 CFR 1006.14(h)(1)",
        "the named medium or address",
        '"Stop emailing me", "don\'t use this number".',
        "block",
    ),
    RuleEntry(
        "cease.requested",
        "Consumer's wishes",
        "15 USC 1692c(c); 12 CFR 1006.6(c)",
        _ALL,
        "A written refusal to pay or request to stop contact: only a notice that collection is "
        "ending or of a specific remedy may follow.",
        "block",
    ),
    RuleEntry(
        "attorney.represented",
        "Consumer's wishes",
        "15 USC 1692c(a)(2); 12 CFR 1006.6(b)(2)",
        _ALL,
        "The consumer is represented by an attorney.",
        "block",
    ),
    RuleEntry(
        "dispute.pending",
        "Consumer's wishes",
        "15 USC 1692g(b); 12 CFR 1006.38(c),(d)(2)",
        _ALL,
        "A written dispute (email, portal and text count) or original-creditor request within "
        "the validation period, verification not yet sent.",
        "block",
    ),
    RuleEntry(
        "state.ma.dispute",
        "Consumer's wishes",
        "940 CMR 7.00 (per the Massachusetts AG's guidance; section unconfirmed)",
        _ALL,
        "Massachusetts: any dispute, at any time, until verified.",
        "block",
    ),
    RuleEntry(
        "bankruptcy.stay",
        "Consumer's wishes",
        "11 USC 362 (automatic stay)",
        _ALL,
        "The consumer filed for bankruptcy.",
        "block",
    ),
    RuleEntry(
        "deceased",
        "Consumer's wishes",
        "industry practice; 12 CFR 1006.2(e)",
        _ALL,
        "The consumer is deceased (estate handling is out of scope).",
        "block",
    ),
    RuleEntry(
        "operator.paused",
        "The account's operators",
        "not a law: an operator's pause (POST /v1/accounts/{id}/pause at the ledger)",
        _ALL,
        "An operator paused outreach to the account, until resumed or the pause's end.",
        "block",
    ),
    RuleEntry(
        "tcpa.consent",
        "Address and consent",
        "47 USC 227(b)(1)(A)(iii); FCC 07-232",
        "sms, voice",
        "No prior express consent on record for that number.",
        "block",
    ),
    RuleEntry(
        "address.basis",
        "Address and consent",
        "12 CFR 1006.6(d)(3)-(5) (safe harbour)",
        _ELECTRONIC,
        "No recorded basis for the address (the consumer used it or consented, or a notice with "
        "a 35-day opt-out window has passed); for sms also a reassigned-numbers check within 60 "
        "days.",
        "block",
    ),
    RuleEntry(
        "email.workplace",
        "Address and consent",
        "12 CFR 1006.22(f)(3)",
        "email",
        "The address is known to be employer-provided (unless the consumer used it or consented).",
        "block",
    ),
    RuleEntry(
        "state.nyc.econsent",
        "Address and consent",
        "6 RCNY 5-77 (behind the policy flag states.nyc.econsent_required)",
        _ELECTRONIC,
        "New York City: no written, revocable consent for electronic contact.",
        "block",
    ),
    RuleEntry(
        "content.optout_notice",
        "Content",
        "12 CFR 1006.6(e)",
        _ELECTRONIC,
        'The message lacks a clear, simple opt-out ("Reply STOP to opt out"); an email lacks '
        "our own unsubscribe link (the List-Unsubscribe target) in its body.",
        "block",
    ),
    RuleEntry(
        "content.mini_miranda",
        "Content",
        "15 USC 1692e(11); 12 CFR 1006.18(e)",
        _ALL,
        'The first communication lacks "attempting to collect a debt; any information obtained '
        'will be used for that purpose"; later ones lack "from a debt collector".',
        "block",
    ),
    RuleEntry(
        "content.timebarred_threat",
        "Content",
        "12 CFR 1006.26(b)",
        _ALL,
        "A suit or threat of suit on a debt past its statute of limitations (from accrual; a "
        "payment revives it only where the state allows; unknown date = time-barred).",
        "block",
    ),
    RuleEntry(
        "content.unauthorized_threat",
        "Content",
        "15 USC 1692e(4),(5)",
        _ALL,
        "Legal-action language without the debt's legal_action_authorized flag.",
        "block",
    ),
    RuleEntry(
        "content.overshadowing",
        "Content",
        "12 CFR 1006.38(b)",
        _ALL,
        'During the validation period, content that undercuts the right to dispute ("pay '
        'within 10 days or else").',
        "block",
    ),
    RuleEntry(
        "state.ca.license",
        "Content",
        "Cal. Civ. Code 1788.11, 1812.700",
        "written and digital",
        "California: licence number missing; Rosenthal notice missing from the first written "
        "notice.",
        "block",
    ),
    RuleEntry(
        "email.one_click_unsubscribe",
        "Content",
        "RFC 8058; Gmail/Yahoo bulk-sender rules (2024)",
        "email",
        "Missing List-Unsubscribe (https) or List-Unsubscribe-Post: List-Unsubscribe=One-Click.",
        "block",
    ),
    RuleEntry(
        "validation.notice",
        "Sequence",
        "12 CFR 1006.34(a)(1),(b)(5),(c)",
        _ALL,
        "The first communication must carry or follow the validation notice within 5 days; the "
        "legal-warning stage waits for the validation period to end without a pending dispute.",
        "block",
    ),
    RuleEntry(
        "state.nv.medical_wait",
        "Sequence",
        "NRS 649.366",
        _ALL,
        "Nevada medical debt: written notice, then 60 days before any collection step.",
        "defer",
    ),
    RuleEntry(
        "input.invalid",
        "The gate itself",
        "fail closed (COMPLIANCE.md)",
        _ALL,
        "The step or the account's data could not be read; the fields are named.",
        "block",
    ),
    RuleEntry(
        "evaluation.error",
        "The gate itself",
        "fail closed (COMPLIANCE.md)",
        _ALL,
        "A rule failed while deciding; nothing is approved.",
        "block",
    ),
)

BY_ID: Final[dict[str, RuleEntry]] = {entry.rule_id: entry for entry in CATALOG}


def render_markdown() -> str:
    """docs/rules.md: every rule id, grouped by family, in the catalog's order."""
    lines = [
        "# Rule ids",
        "",
        "Every rule id the compliance gate can name in a decision: its legal source, what it",
        "checks and its action. **defer** = not now (the gate names the earliest instant);",
        "**block** = never, for this step. The numbers live in the policy file",
        "(`services/compliance-gate/src/dunning_gate/policy/default_policy.yaml`), not here.",
        "",
        "Generated from the gate's rule catalog (`dunning_gate.domain.rules.catalog`) by",
        "`make docs`; a test fails when this page is stale.",
    ]
    family = None
    for entry in CATALOG:
        if entry.family != family:
            family = entry.family
            lines += ["", f"## {family}", "", "| rule id | source | channels | checks | action |"]
            lines.append("|---|---|---|---|---|")
        cells = (
            f"`{entry.rule_id}`",
            entry.source,
            entry.channels,
            entry.checks,
            entry.action,
        )
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
