"""``dunning templates preview``: asks the scheduler's preview route and prints each
stage's rendered message as text; a refusal or an unreachable scheduler is one line."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from dunning_cli.main import app
from typer.testing import CliRunner

RUNNER = CliRunner()
RESPONSE = {
    "locale": "es_US",
    "account_id": "SAMPLE-0001",
    "previews": [
        {
            "stage_key": "urgency",
            "stage": "urgency",
            "template": "urgency",
            "channel": "email",
            "locale": "es_US",
            "subject": "Su cuenta requiere atención",
            "body": "Hola Alex,\n\nSu saldo es US$1,234.56.",
            "headers": {"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        },
        {
            "stage_key": "urgency",
            "stage": "urgency",
            "template": "urgency",
            "channel": "sms",
            "locale": "es_US",
            "subject": None,
            "body": "Alex: su saldo es US$1,234.56. Responda ALTO para no recibir más.",
            "headers": {},
        },
    ],
}


def _serve(
    monkeypatch: pytest.MonkeyPatch, status: int, body: dict[str, Any]
) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def get(url: str, **kwargs: Any) -> httpx.Response:
        calls.append({"url": url, **kwargs})
        return httpx.Response(status, json=body, request=httpx.Request("GET", url))

    monkeypatch.setattr(httpx, "get", get)
    return calls


def test_preview_prints_each_message(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _serve(monkeypatch, 200, RESPONSE)

    result = RUNNER.invoke(
        app,
        [
            "templates",
            "preview",
            "--locale",
            "es_US",
            "--stage",
            "urgency",
            "--scheduler",
            "http://s",
        ],
    )

    assert result.exit_code == 0, result.output
    assert calls[0]["url"] == "http://s/v1/templates/preview"
    assert calls[0]["params"] == {"locale": "es_US", "state": "NY", "stage": "urgency"}
    out = result.stdout
    assert "== urgency / urgency / email (es_US) ==" in out
    assert "Subject: Su cuenta requiere atención" in out
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in out
    assert "Hola Alex,\n\nSu saldo es US$1,234.56." in out
    assert "== urgency / urgency / sms (es_US) ==\nAlex: su saldo" in out


def test_channel_is_passed_and_nothing_matching_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _serve(monkeypatch, 200, {"locale": "zh_CN", "previews": []})

    result = RUNNER.invoke(
        app, ["templates", "preview", "--locale", "zh_CN", "--channel", "sms", "--first"]
    )

    assert result.exit_code == 0, result.output
    assert calls[0]["params"]["channel"] == "sms"
    assert calls[0]["params"]["first_communication"] == "true"
    assert "no templates match" in result.stdout


def test_a_refusal_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(monkeypatch, 404, {"detail": "no stage 'nope' (known: urgency)"})

    result = RUNNER.invoke(app, ["templates", "preview", "--locale", "en_US", "--stage", "nope"])

    assert result.exit_code == 1
    assert "404" in result.stderr
    assert "no stage 'nope'" in result.stderr


def test_an_unreachable_scheduler_is_one_line() -> None:
    result = RUNNER.invoke(
        app, ["templates", "preview", "--locale", "en_US", "--scheduler", "http://127.0.0.1:1"]
    )

    assert result.exit_code == 1
    assert "cannot reach the scheduler at http://127.0.0.1:1" in result.stderr
