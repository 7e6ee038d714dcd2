"""The response headers of the services' HTML pages (the payment page, the dashboard)."""

from __future__ import annotations


def page_headers(content_security_policy: str) -> dict[str, str]:
    """Headers that keep a page out of caches, frames and Referer headers, its type from
    being sniffed, and what it may load to ``content_security_policy``."""
    return {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": content_security_policy,
    }
