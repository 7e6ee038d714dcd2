"""The dashboard's HTML: Jinja2 templates, autoescaped, no inline script or style (the
Content-Security-Policy allows only the dashboard's own /static files)."""

from __future__ import annotations

from typing import Any

from dunning_core.pages import page_environment

from dunning_ops.sessions import Session

NAV = (("/", "Portfolio"), ("/pipeline", "Pipeline"), ("/accounts", "Accounts"),
       ("/policies", "Policies"))  # fmt: skip


class Pages:
    def __init__(self) -> None:
        self._env = page_environment("dunning_ops")

    def render(self, name: str, session: Session | None, path: str = "", **context: Any) -> str:
        return self._env.get_template(name).render(session=session, nav=NAV, path=path, **context)
