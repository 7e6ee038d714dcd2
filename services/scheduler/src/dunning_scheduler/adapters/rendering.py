"""Rendering a step's message: Jinja2 templates compiled once, money and dates via cached
Babel formatters, the email unsubscribe link and one-click headers (RFC 8058).

Templates live in ``templates/<locale>/<name>.<part>.j2`` with parts ``sms``, ``email``
and ``subject``; files starting with ``_`` are shared fragments. Every template named by
the policy must exist in every locale with every part: ``Renderer`` checks at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from dunning_core import paylink
from dunning_core.contracts.common import Channel, MessageContent
from dunning_core.contracts.events import Consumer, Debt
from dunning_core.links import unsubscribe_token
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from dunning_scheduler.adapters.formatting import Formatters
from dunning_scheduler.config import SchedulerSettings
from dunning_scheduler.domain.planning import StepDraft

TEMPLATE_DIR = Path(__file__).parent.parent / "templates"
LOCALES = ("en_US", "es_US", "zh_CN")
DEFAULT_LOCALE = "en_US"
PARTS = ("sms", "email", "subject")
ONE_CLICK = "List-Unsubscribe=One-Click"
_BLANK_LINES = re.compile(r"\n{3,}")


class TemplateError(ValueError):
    """The template set is incomplete or a template does not compile."""


@dataclass(frozen=True)
class Identity:
    """Who is writing and how to reach them; where links point. From configuration."""

    collector_name: str
    collector_phone: str
    payments_url: str
    unsubscribe_url: str
    unsubscribe_mailto: str
    unsubscribe_secret: str
    # The payment link's token (dunning_core.paylink): signed under the key the payment page
    # checks, valid until the step's send_at + paylink_days.
    paylink_key: str = "change-me-paylink-key"
    paylink_days: int = 30


def message_locale(consumer_locale: str) -> str:
    """The supported locale a message is written in: same language, else the default."""
    normal = consumer_locale.replace("-", "_")
    if normal in LOCALES:
        return normal
    language = normal.split("_", 1)[0].lower()
    return next((loc for loc in LOCALES if loc.split("_")[0] == language), DEFAULT_LOCALE)


def _first_name(full_name: str) -> str:
    return full_name.split()[0] if full_name.split() else full_name


class Renderer:
    """Renders step drafts into ``MessageContent``; build one per process and reuse it."""

    def __init__(
        self,
        identity: Identity,
        formatters: Formatters | None = None,
        template_dir: Path = TEMPLATE_DIR,
    ) -> None:
        self.identity = identity
        self.formatters = formatters or Formatters()
        self._env = Environment(
            loader=FileSystemLoader(str(template_dir)),
            undefined=StrictUndefined,
            autoescape=False,  # plain-text SMS and email bodies
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,
            cache_size=-1,
        )
        # The templates use no global helpers (range, lipsum, ...); an empty globals map
        # makes every render's context, and every include's, markedly cheaper.
        self._env.globals.clear()
        self._templates: dict[tuple[str, str, str], Template] = {}
        names_by_locale: dict[str, set[str]] = {}
        for locale in LOCALES:
            folder = template_dir / locale
            names_by_locale[locale] = set()
            for path in sorted(folder.glob("*.j2")):
                if path.name.startswith("_"):
                    continue
                name, _, part = path.name.removesuffix(".j2").rpartition(".")
                if part not in PARTS or not name:
                    raise TemplateError(f"{path}: expected <name>.<sms|email|subject>.j2")
                try:
                    self._templates[(locale, name, part)] = self._env.get_template(
                        f"{locale}/{path.name}"
                    )
                except Exception as exc:
                    raise TemplateError(f"{path}: {exc}") from exc
                names_by_locale[locale].add(name)
        every = set.union(*names_by_locale.values())
        missing = sorted(
            f"{locale}/{name}.{part}.j2"
            for locale in LOCALES
            for name in every
            for part in PARTS
            if (locale, name, part) not in self._templates
        )
        if missing:
            raise TemplateError(f"missing templates: {', '.join(missing)}")
        self.names: frozenset[str] = frozenset(every)

    def context(self, draft: StepDraft, consumer: Consumer, debt: Debt) -> dict[str, Any]:
        locale = consumer.locale
        text_locale = message_locale(locale)
        fmt = self.formatters
        third_party = debt.collector_type == "third_party"
        since = debt.delinquent_since or debt.due_date
        first = draft.first_communication
        ca = consumer.state == "CA"
        return {
            "sender": self.identity.collector_name if third_party else debt.creditor,
            "third_party": third_party,
            "creditor": debt.creditor,
            "first_name": _first_name(consumer.full_name),
            "full_name": consumer.full_name,
            "amount": fmt.money(debt.balance.amount_minor, debt.balance.currency, locale),
            "due_date": fmt.long_date(debt.due_date, text_locale),
            "days_past_due": max(0, (draft.send_at.date() - since).days),
            "reply_by": fmt.long_date(draft.reply_by, text_locale),
            "reference": draft.account_id,
            "pay_url": self.pay_url(draft),
            "collector_phone": self.identity.collector_phone,
            "first_communication": first,
            "ca_license": debt.ca_license_number if ca else None,
            "rosenthal": ca and first,
            "time_barred": draft.time_barred,
            "payment_amount": (
                fmt.money(draft.amount.amount_minor, draft.amount.currency, locale)
                if draft.amount is not None
                else None
            ),
            "payment_date": (
                fmt.long_date(draft.on_date, text_locale) if draft.on_date is not None else None
            ),
            "itemization": self._itemization(debt, locale, text_locale),
        }

    def _itemization(self, debt: Debt, locale: str, text_locale: str) -> dict[str, str] | None:
        """The creditor's Regulation F itemization, formatted; what was paid here since the
        import is added to its payments, so the lines add up to the balance now."""
        item = debt.itemization
        if item is None:
            return None
        fmt, currency = self.formatters, debt.balance.currency
        total = (
            item.amount_minor + item.interest_minor + item.fees_minor
            - item.payments_minor - item.credits_minor
        )  # fmt: skip
        paid_here = max(0, total - debt.balance.amount_minor)
        return {
            "date": fmt.long_date(item.itemization_date, text_locale),
            "basis": item.basis,
            "amount": fmt.money(item.amount_minor, currency, locale),
            "interest": fmt.money(item.interest_minor, currency, locale),
            "fees": fmt.money(item.fees_minor, currency, locale),
            "payments": fmt.money(item.payments_minor + paid_here, currency, locale),
            "credits": fmt.money(item.credits_minor, currency, locale),
        }

    def pay_url(self, draft: StepDraft) -> str:
        """The link to the payment page: the same step gives the same link. It opens the page
        until the UTC midnight after send_at + paylink_days (a whole day, so a preview's
        sample link is the same all day)."""
        last = (draft.send_at + timedelta(days=self.identity.paylink_days)).astimezone(UTC)
        expires = datetime.combine(last.date() + timedelta(days=1), time(), tzinfo=UTC)
        token = paylink.sign(draft.account_id, draft.step_id, expires, self.identity.paylink_key)
        return f"{self.identity.payments_url.rstrip('/')}/p/{token}"

    def render(self, draft: StepDraft, consumer: Consumer, debt: Debt) -> MessageContent:
        locale = message_locale(consumer.locale)
        ctx = self.context(draft, consumer, debt)
        if draft.channel == Channel.SMS:
            body = self._templates[(locale, draft.template, "sms")].render(ctx)
            return MessageContent(body=" ".join(body.split()), locale=locale)
        token = unsubscribe_token(
            self.identity.unsubscribe_secret, draft.account_id, draft.destination
        )
        link = f"{self.identity.unsubscribe_url.rstrip('/')}/{token}"
        ctx["unsubscribe_url"] = link
        body = self._templates[(locale, draft.template, "email")].render(ctx)
        subject = self._templates[(locale, draft.template, "subject")].render(ctx)
        lines = "\n".join(line.rstrip() for line in body.strip().splitlines())
        return MessageContent(
            body=_BLANK_LINES.sub("\n\n", lines),
            subject=" ".join(subject.split()),
            locale=locale,
            headers={
                "List-Unsubscribe": (
                    f"<{link}>, <mailto:{self.identity.unsubscribe_mailto}"
                    f"?subject=unsubscribe%20{token}>"
                ),
                "List-Unsubscribe-Post": ONE_CLICK,
            },
        )


def build_renderer(settings: SchedulerSettings) -> Renderer:
    """The renderer the service uses (also what checks a policy's template names)."""
    return Renderer(
        Identity(
            collector_name=settings.collector_name,
            collector_phone=settings.collector_phone,
            payments_url=settings.payments_url,
            unsubscribe_url=settings.unsubscribe_url,
            unsubscribe_mailto=settings.unsubscribe_mailto,
            unsubscribe_secret=settings.unsubscribe_secret.get_secret_value(),
            paylink_key=settings.paylink_key.get_secret_value(),
            paylink_days=settings.paylink_days,
        )
    )
