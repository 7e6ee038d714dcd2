"""Escalation policy as data: the model, its strict loader and the built-in default."""
