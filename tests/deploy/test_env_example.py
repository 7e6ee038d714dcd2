""".env.example names every setting a service reads (at least one of each field's names)."""

from __future__ import annotations

import re

import pytest
from dunning_testkit.paths import REPO

from .k8s import SETTINGS, env_names, settings_class


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_every_setting_of_the_service_is_in_env_example(service: str) -> None:
    text = (REPO / ".env.example").read_text()
    mentioned = set(re.findall(r"\b(DUNNING_[A-Z0-9_]+)", text))
    fields: dict[str, set[str]] = {}
    for env, field in env_names(settings_class(service)).items():
        if env.startswith("DUNNING_"):
            fields.setdefault(field, set()).add(env)
    missing = sorted(field for field, names in fields.items() if not names & mentioned)
    assert missing == [], f"{service}: {missing} not in .env.example"
