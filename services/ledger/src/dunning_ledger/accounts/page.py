"""The printable timeline page: Jinja2 with every value escaped, no external asset."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from dunning_ledger.accounts.schemas import TimelineOut

_PAGES = Environment(
    loader=PackageLoader("dunning_ledger.accounts", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def timeline_page(timeline: TimelineOut) -> str:
    return _PAGES.get_template("timeline.html").render(t=timeline)
