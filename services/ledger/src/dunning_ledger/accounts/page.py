"""The printable timeline: an HTML page (Jinja2, every value escaped, no external asset)
and the same page as PDF (WeasyPrint, which fetches nothing: no URL is allowed)."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from dunning_ledger.accounts.schemas import TimelineOut

_PAGES = Environment(
    loader=PackageLoader("dunning_ledger.accounts", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def timeline_page(timeline: TimelineOut) -> str:
    return _PAGES.get_template("timeline.html").render(t=timeline)


def timeline_pdf(page: str) -> bytes:
    """The page as PDF (CPU-bound, about a second for a long story: call it off the loop)."""
    # Imported here: WeasyPrint loads Pango and fonts, which a ledger that never prints
    # should not pay for at start.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    pdf: bytes = HTML(string=page, url_fetcher=URLFetcher(allowed_protocols=())).write_pdf()
    return pdf
