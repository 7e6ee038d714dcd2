"""Templates render every required disclosure in en_US, es_US and zh_CN; formatting is cached."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

import pytest
from babel.numbers import format_currency
from dunning_core import paylink
from dunning_core.contracts.common import Channel, MessageContent
from dunning_core.links import read_unsubscribe_token
from dunning_scheduler.adapters.formatting import CurrencyFormatter, Formatters
from dunning_scheduler.adapters.rendering import Renderer, message_locale
from dunning_scheduler.domain import reactions
from dunning_scheduler.domain.case import Case
from dunning_scheduler.domain.planning import StepDraft
from dunning_scheduler.policy.loader import default_policy
from dunning_testkit.scheduler import (
    IDENTITY,
    NOW,
    account_opened,
    consumer,
    debt,
    rendered_ladder,
)

POLICY = default_policy()
RENDERER = Renderer(IDENTITY)

MIRANDA_FIRST = {
    "en_US": "This is an attempt to collect a debt and any information obtained will be used "
    "for that purpose.",
    "es_US": "Esto es un intento de cobrar una deuda y cualquier información obtenida será "
    "utilizada para ese propósito.",
    "zh_CN": "这是一次收取债务的尝试，所获得的任何信息都将用于此目的。",
}
MIRANDA_LATER = {
    "en_US": "This communication is from a debt collector.",
    "es_US": "Esta comunicación es de un cobrador de deudas.",
    "zh_CN": "本信息来自债务催收机构。",
}
STOP = {"en_US": "Reply STOP to opt out.", "es_US": "Responda STOP", "zh_CN": "回复 STOP 退订。"}
UNSUBSCRIBE = {
    "en_US": "To unsubscribe from these emails: https://",
    "es_US": "darse de baja",
    "zh_CN": "如需退订这些邮件：https://",
}
# From the gate's rulebook: overshadowing and legal-threat language.
OVERSHADOWING = (
    "or else",
    "pay immediately",
    "within 10 days",
    "within ten days",
    "failure to pay within",
    "cannot dispute",
    "pay now to avoid",
)
THREATS = (
    "lawsuit",
    "sue you",
    "legal action",
    "court",
    "garnish",
    "litigation",
    "demanda",
    "accion legal",
    "embargo",
    "起诉",
    "诉讼",
    "法律程序",
    "法律行动",
)
_UNSPACED = re.compile(r"[\u4e00-\u9fff]")


def normal(text: str) -> str:
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " " + " ".join(re.sub(r"[\W_]+", " ", text.lower()).split()) + " "


def found(phrase: str, text: str) -> bool:
    """A whole-word match; Chinese has no spaces between words, so a substring there."""
    if _UNSPACED.search(phrase):
        return normal(phrase).strip() in text
    return normal(phrase) in text


def ladder(case: Case) -> list[tuple[StepDraft, MessageContent]]:
    return rendered_ladder(case, POLICY, RENDERER)


def opened(**kwargs: object) -> Case:
    case = reactions.on_account(None, account_opened(**kwargs), POLICY, NOW)  # type: ignore[arg-type]
    assert case is not None
    return case


@pytest.mark.parametrize("locale", ["en_US", "es_US", "zh_CN"])
@pytest.mark.parametrize("legal", [True, False])
def test_every_message_carries_identity_disclosure_and_opt_out(locale: str, legal: bool) -> None:
    messages = ladder(opened(consumer_=consumer(locale=locale), debt_=debt(legal=legal)))
    assert len(messages) == 10
    for draft, content in messages:
        assert content.locale == locale
        body = content.body
        assert "Acme Recovery Services" in body
        assert "$1,234.56" in body
        # The payment page's link: <payments_url>/p/<token naming this account and step>.
        [token] = set(re.findall(r"https://pay\.example\.com/accounts/p/([A-Za-z0-9_-]+)", body))
        assert paylink.verify(token, IDENTITY.paylink_key, draft.send_at) == (
            "ACC-1",
            draft.step_id,
        )
        miranda = MIRANDA_FIRST if draft.first_communication else MIRANDA_LATER
        assert miranda[locale] in body
        if draft.channel == Channel.SMS:
            assert STOP[locale] in body
            assert content.subject is None
            assert content.headers == {}
        else:
            assert UNSUBSCRIBE[locale] in body
            assert content.subject
            assert content.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            assert content.headers["List-Unsubscribe"].startswith("<https://")
            assert "<mailto:" in content.headers["List-Unsubscribe"]
        text = normal(f"{content.subject or ''} {body}")
        assert not [p for p in OVERSHADOWING if found(p, text)]
        threats = [p for p in THREATS if found(p, text)]
        if draft.legal_language:
            assert legal
            assert threats
        else:
            assert not threats, (draft.template, threats)


def test_the_unsubscribe_link_names_the_account_and_address() -> None:
    _, content = next(m for m in ladder(opened()) if m[0].channel == Channel.EMAIL)
    token = content.headers["List-Unsubscribe"].split("/unsubscribe/", 1)[1].split(">", 1)[0]
    assert read_unsubscribe_token("test-secret", token) == ("ACC-1", "ana.garcia@example.com")
    assert f"https://collections.example.com/unsubscribe/{token}" in content.body


@pytest.mark.parametrize("locale", ["en_US", "es_US"])
def test_california_messages_carry_the_licence_and_the_first_one_the_rosenthal_notice(
    locale: str,
) -> None:
    messages = ladder(
        opened(consumer_=consumer(state="CA", locale=locale), debt_=debt(licence="CFL-2024-1"))
    )
    for draft, content in messages:
        assert "CFL-2024-1" in content.body
        has_notice = "Rosenthal Fair Debt Collection Practices Act" in content.body
        assert has_notice == draft.first_communication
        if has_notice:
            assert "1-877-FTC-HELP" in content.body


def test_time_barred_debts_say_they_will_not_be_sued_on() -> None:
    messages = ladder(opened(debt_=debt(legal=True, limitation=NOW.date())))
    final = [c for d, c in messages if d.template == "final_notice"]
    assert final
    assert all("will not sue you for it" in c.body for c in final)


def test_a_creditor_collecting_its_own_debt_does_not_claim_to_be_a_debt_collector() -> None:
    messages = ladder(opened(debt_=debt(collector_type="first_party")))
    for _, content in messages:
        assert content.body.startswith("Acme Bank") or "Acme Bank" in content.body
        assert "debt collector" not in content.body
        assert "Acme Recovery Services" not in content.body


def test_rendering_is_deterministic() -> None:
    first = ladder(opened())
    second = ladder(opened())
    assert [c.content_hash() for _, c in first] == [c.content_hash() for _, c in second]


def test_message_locale_falls_back_by_language_then_to_english() -> None:
    assert message_locale("es_MX") == "es_US"
    assert message_locale("es-US") == "es_US"
    assert message_locale("fr_FR") == "en_US"
    assert message_locale("zh-Hans-CN") == "zh_CN"
    assert message_locale("zh") == "zh_CN"


@pytest.mark.parametrize("locale", ["en_US", "es_US", "es_MX", "fr_FR", "de_DE", "pt_BR"])
@pytest.mark.parametrize("currency", ["USD", "EUR", "JPY"])
def test_the_cached_currency_formatter_matches_babel(locale: str, currency: str) -> None:
    formatter = CurrencyFormatter(currency, locale)
    assert formatter.fast
    digits = formatter.digits
    for amount in (0, 7, 1_005, 123_456, 9_876_543_210, 31_415_926):
        expected = format_currency(Decimal(amount).scaleb(-digits), currency, locale=locale)
        assert formatter(amount) == expected


def test_unusual_grouping_and_negative_amounts_fall_back_to_babel() -> None:
    indian = CurrencyFormatter("INR", "en_IN")
    assert not indian.fast
    assert indian(1_234_567_89) == format_currency(Decimal("1234567.89"), "INR", locale="en_IN")
    assert CurrencyFormatter("USD", "en_US")(-1050) == "-$10.50"


def test_formatters_are_built_once_per_currency_and_locale() -> None:
    formatters = Formatters()
    assert formatters.currency_formatter("USD", "es_US") is formatters.currency_formatter(
        "USD", "es_US"
    )
    assert formatters.long_date(NOW.date(), "es_US") == "2 de marzo de 2026"


def test_the_pay_link_is_the_same_for_the_same_step_and_expires_after_paylink_days() -> None:
    from datetime import UTC, datetime, timedelta

    draft, _ = ladder(opened(consumer_=consumer(locale="en_US"), debt_=debt(legal=True)))[0]
    url = RENDERER.pay_url(draft)
    assert url == RENDERER.pay_url(draft)
    assert url.startswith("https://pay.example.com/accounts/p/")
    token = url.rsplit("/", 1)[1]
    last_day = (draft.send_at + timedelta(days=IDENTITY.paylink_days)).date()
    expires = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert expires - draft.send_at > timedelta(days=IDENTITY.paylink_days)
    assert paylink.verify(token, IDENTITY.paylink_key, expires - timedelta(seconds=1)) == (
        "ACC-1",
        draft.step_id,
    )
    assert paylink.verify(token, IDENTITY.paylink_key, expires) is paylink.Refusal.EXPIRED
    assert paylink.verify(token, "another-key", draft.send_at) is paylink.Refusal.FORGED
