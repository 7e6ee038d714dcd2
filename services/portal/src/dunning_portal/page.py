"""The page's HTML: Jinja2 templates (autoescaped, no script, no outside resource) rendered from
the use cases' outcomes, with amounts and dates in the consumer's language."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, get_currency_precision
from dunning_core.pages import page_environment
from dunning_core.runtime.clock import Clock

from dunning_portal.domain.actions import form_token, language
from dunning_portal.domain.texts import LANGUAGE_NAMES, text
from dunning_portal.service import Done, Problem, Refused, View

_BABEL_LOCALE = {"en": "en_US", "es": "es_US", "zh": "zh_Hans_CN"}


class Pages:
    def __init__(
        self, paylink_key: str, collector_name: str, collector_phone: str, clock: Clock
    ) -> None:
        self._key = paylink_key
        self._clock = clock
        self._collector = collector_name
        self._phone = collector_phone
        self._env = page_environment("dunning_portal")

    def _common(self, lang: str) -> dict[str, Any]:
        locale = _BABEL_LOCALE[lang]

        def t(key: str, **values: object) -> str:
            return text(lang, key, **values)

        def money(amount_minor: int, currency: str) -> str:
            digits = get_currency_precision(currency)
            return format_currency(Decimal(amount_minor).scaleb(-digits), currency, locale=locale)

        def day(value: date) -> str:
            return format_date(value, format="long", locale=locale)

        return {
            "lang": lang,
            "languages": LANGUAGE_NAMES,
            "t": t,
            "money": money,
            "day": day,
            "phone": self._phone,
        }

    def page(self, token: str, view: View, lang: str | None, problem: str | None = None) -> str:
        chosen = lang or language(view.account.locale)
        return self._env.get_template("page.html").render(
            **self._common(chosen),
            **self._of_link(token, view),
            collector=self._collector,
            problem=problem.replace(":", "_") if problem else None,
            today=self._clock.now().date(),
        )

    def problem(self, token: str, outcome: Problem, lang: str | None) -> str:
        return self.page(token, outcome.view, lang, outcome.message)

    def done(self, token: str, done: Done, lang: str | None) -> str:
        chosen = lang or language(done.view.account.locale)
        return self._env.get_template("done.html").render(
            **self._common(chosen), **self._of_link(token, done.view), done=done
        )

    def _of_link(self, token: str, view: View) -> dict[str, Any]:
        """What the page and its confirmation both show of the link's account."""
        plan = view.money.active_plan()
        return {
            "token": token,
            "csrf": form_token(self._key, token),
            "view": view,
            "plan": plan,
            "next_installment": plan.next_installment() if plan else None,
            "settlement": view.money.open_settlement(),
        }

    def refused(self, refused: Refused | None, lang: str | None, key: str | None = None) -> str:
        message = key or (f"refused_{refused.reason.value}" if refused else "refused_forged")
        return self._env.get_template("refused.html").render(
            **self._common(lang or "en"), message=message
        )
