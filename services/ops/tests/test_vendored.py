"""The chart library is the pinned npm release, byte for byte, with its licence beside it; the
pages load it from the dashboard itself, never from a CDN."""

from __future__ import annotations

import hashlib
from importlib.resources import files

VENDORED = {
    "chart-4.6.1.umd.min.js": "87364cc2b2a76a6684929e7d6b80b18a897794db38400caff1fcf1791c6925d2"
}


def test_the_vendored_chart_library_is_the_pinned_release() -> None:
    static = files("dunning_ops") / "static"
    for name, digest in VENDORED.items():
        data = (static / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, name
        assert data.startswith(b"/*!\n * Chart.js v4.6.1")
    assert "MIT License" in (static / "chart-LICENSE.md").read_text()
    assert "4.6.1" in (static / "VENDORED.md").read_text()


def test_no_page_loads_anything_from_another_host() -> None:
    templates = files("dunning_ops") / "templates"
    for page in templates.iterdir():
        text = page.read_text()
        assert "http://" not in text, page.name
        assert "https://" not in text, page.name
        assert "//cdn" not in text, page.name
