"""Reading a policy file: strict YAML in, a validated `Policy` out, or a `PolicyError`.

The YAML reader refuses duplicate keys (plain YAML silently keeps the last one, which
would let a typo override a cap unnoticed). Validation errors are reported one per line
with the dotted path of the offending value, e.g. ``frequency.calls_7in7.max``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dunning_gate.policy.model import Policy

DEFAULT_POLICY_RESOURCE = "default_policy.yaml"


class PolicyError(ValueError):
    """A policy file that cannot be read or does not validate; the message names paths."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys."""


def _mapping_without_duplicates(
    loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def _dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def describe_validation_error(error: ValidationError) -> list[str]:
    """One line per problem: `<path>: <message>`; dict-key problems name the key."""
    lines = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        if loc and loc[-1] == "[key]":
            loc = loc[:-1]
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (not part of the policy schema)"
        lines.append(f"{_dotted(loc)}: {message}")
    return lines


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """Validate policy YAML text; raises `PolicyError` naming each offending path."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy {source} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"policy {source} must be a mapping at the top level")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        details = "\n  ".join(describe_validation_error(exc))
        raise PolicyError(f"policy {source} is invalid:\n  {details}") from exc


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"policy {file} cannot be read: {exc}") from exc
    return parse_policy(text, str(file))


@cache
def default_policy() -> Policy:
    """The policy shipped with the package (read once)."""
    text = (
        resources.files("dunning_gate.policy")
        .joinpath(DEFAULT_POLICY_RESOURCE)
        .read_text(encoding="utf-8")
    )
    return parse_policy(text, f"dunning_gate.policy/{DEFAULT_POLICY_RESOURCE}")
