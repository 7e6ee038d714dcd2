"""Compliance policy as data: the versioned YAML the gate enforces, and its loader."""

from dunning_gate.policy.loader import PolicyError, default_policy, load_policy, parse_policy
from dunning_gate.policy.model import Policy

__all__ = ["Policy", "PolicyError", "default_policy", "load_policy", "parse_policy"]
