"""Loading the payment terms from YAML, refusing an invalid file with the field and line."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import yaml
from dunning_core.yaml_models import parse_yaml_model

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


def _describe(text: str, path: Sequence[int | str], message: str) -> str:
    return f"{'.'.join(str(p) for p in path) or '(top level)'}: {message}" + _line(text, path)


def parse_terms(text: str, *, source: str = "terms") -> PaymentTerms:
    return parse_yaml_model(
        PaymentTerms,
        text,
        source=source,
        what="payment terms",
        error=TermsError,
        describe=_describe,
    )


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
