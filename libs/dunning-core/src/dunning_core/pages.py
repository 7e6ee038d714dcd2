"""The Jinja2 environment of every service that serves HTML pages on the shared document
(``templates/document.html``: private, not indexed, a bar over the main part).

A service's own templates come first and extend ``document.html``; everything is autoescaped,
strings rendered from code too, and block tags leave no blank lines behind."""

from __future__ import annotations

from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape


def page_environment(package: str) -> Environment:
    """The environment of ``package``'s templates (its ``templates`` folder), then ours."""
    return Environment(
        loader=ChoiceLoader([PackageLoader(p, "templates") for p in (package, "dunning_core")]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
