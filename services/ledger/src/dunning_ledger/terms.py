"""Loading the payment terms from YAML, refusing an invalid file with the field and line."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from dunning_ledger.domain.terms import PaymentTerms

DEFAULT_TERMS = "terms.yaml"


class TermsError(ValueError):
    """The terms file cannot be used; the message says where and why."""


def _line(text: str, path: Sequence[int | str]) -> str:
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    line = None
    for part in path:
        if not isinstance(node, yaml.MappingNode):
            break
        match = [(k, v) for k, v in node.value if k.value == str(part)]
        if not match:
            break
        line, node = match[0][0].start_mark.line + 1, match[0][1]
    return f" (line {line})" if line else ""


def parse_terms(text: str, *, source: str = "terms") -> PaymentTerms:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TermsError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise TermsError(f"{source}: expected a mapping at the top level")
    try:
        return PaymentTerms.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            + _line(text, e["loc"])
            for e in exc.errors()
        )
        raise TermsError(f"{source}: invalid payment terms: {problems}") from exc


def load_terms(path: str | Path | None = None) -> PaymentTerms:
    """The terms in ``path``, or the packaged default."""
    if path is None or str(path) == "":
        text = resources.files("dunning_ledger").joinpath(DEFAULT_TERMS).read_text("utf-8")
        return parse_terms(text, source=f"(built-in) {DEFAULT_TERMS}")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise TermsError(f"{path}: cannot read: {exc}") from exc
    return parse_terms(text, source=str(path))
