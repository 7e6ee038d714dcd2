"""The API docs page of a service, served from a package: no external CDN.

FastAPI's default ``/docs`` loads Swagger UI from a CDN, which a locked-down operations
network (or this project's CI) cannot reach. ``serve_api_docs`` serves the same page with
the assets of the pinned ``swagger-ui-bundle`` package, under ``/docs/assets``. Create
the app with ``docs_url=None, redoc_url=None`` (``DOCS_OFF``) and call it once.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_OFF: Final[dict[str, Any]] = {"docs_url": None, "redoc_url": None}
ASSETS: Final = "/docs/assets"


def serve_api_docs(app: FastAPI) -> None:
    """``GET /docs``: Swagger UI over the app's OpenAPI document, assets served locally."""
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title}: API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
