"""A pydantic model read from a YAML document, refused with one message naming each problem.

The services' configuration files (the ledger's payment terms, the scheduler's escalation
policy) are read the same way: plain safe YAML, a mapping at the top level, validated by
the model; each service says how a validation error is placed in its document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

Describe = Callable[[str, Sequence[int | str], str], str]
"""(document, error's path, error's message) -> that problem as the message shows it."""


def parse_yaml_model(
    model: type[M],
    text: str,
    *,
    source: str,
    what: str,
    error: Callable[[str], Exception],
    describe: Describe,
) -> M:
    """``text`` validated as ``model``; else raises ``error``, saying ``source`` and why
    (``<source>: invalid <what>: <problem>; <problem>`` for a document that does not
    validate)."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise error(f"{source}: expected a mapping at the top level")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(describe(text, e["loc"], e["msg"]) for e in exc.errors())
        raise error(f"{source}: invalid {what}: {problems}") from exc
