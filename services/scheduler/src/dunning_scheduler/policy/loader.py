"""Reading an escalation policy from YAML, refusing anything invalid with a clear message."""

from __future__ import annotations

from collections.abc import Collection
from importlib import resources
from pathlib import Path

from dunning_core.yaml_models import parse_yaml_model

from dunning_scheduler.policy.lines import at_line, describe
from dunning_scheduler.policy.model import EscalationPolicy

DEFAULT_POLICY = "default.yaml"


class PolicyError(ValueError):
    """The policy file cannot be used; the message says where and why."""


def parse_policy(
    text: str, *, source: str = "policy", templates: Collection[str] | None = None
) -> EscalationPolicy:
    """Validate a policy document; ``templates`` are the names the renderer knows."""
    policy = parse_yaml_model(
        EscalationPolicy,
        text,
        source=source,
        what="escalation policy",
        error=PolicyError,
        describe=describe,
    )
    if templates is not None:
        unknown = sorted(policy.template_names() - set(templates))
        if unknown:
            where = [
                f"stages.{i}.templates" + at_line(text, ("stages", i, "templates"))
                for i, stage in enumerate(policy.stages)
                if stage.template_names() & set(unknown)
            ]
            if policy.plans.template_names() & set(unknown):
                where.append("plans" + at_line(text, ("plans",)))
            raise PolicyError(
                f"{source}: unknown templates {', '.join(unknown)} in {', '.join(where)} "
                f"(known: {', '.join(sorted(templates))})"
            )
    return policy


def load_policy(path: Path, templates: Collection[str] | None = None) -> EscalationPolicy:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read: {exc}") from exc
    return parse_policy(text, source=str(path), templates=templates)


def default_policy(templates: Collection[str] | None = None) -> EscalationPolicy:
    text = resources.files("dunning_scheduler.policy").joinpath(DEFAULT_POLICY).read_text("utf-8")
    return parse_policy(text, source=f"(built-in) {DEFAULT_POLICY}", templates=templates)
