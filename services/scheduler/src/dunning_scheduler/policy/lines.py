"""Where a value sits in a YAML document: the line of a validation error's path.

Pydantic names the field (``stages.1.max_attempts``); a person editing the file also
wants the line. The document is composed (not constructed) to keep each node's position.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import yaml


def line_of(text: str, path: Sequence[int | str]) -> int | None:
    """The 1-based line of the value at ``path``, or of its nearest existing parent."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    line = node.start_mark.line
    for part in path:
        found: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    line, found = key.start_mark.line, value
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            found = node.value[part]
            line = found.start_mark.line
        if found is None:
            break
        node = found
    return line + 1


def at_line(text: str, path: Sequence[int | str]) -> str:
    """`` (line 32)`` for the value at ``path``; empty when it cannot be placed."""
    line = line_of(text, path)
    return f" (line {line})" if line is not None else ""


_NAMED = re.compile(r"^(?:Value error, )?(?P<path>[a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)+): ")


def describe(text: str, path: Sequence[int | str], message: str) -> str:
    """``stages.1.max_attempts: <message> (line 32)``: the dotted field, why, and where.

    A check over the whole policy that is about one field names it first
    (``plans.resume_stage: ...``): it is placed at that field's line.
    """
    named = _NAMED.match(message) if not path else None
    if named is not None:
        where = [int(p) if p.isdigit() else p for p in named["path"].split(".")]
        return f"{message}{at_line(text, where)}"
    dotted = ".".join(str(p) for p in path) or "(top level)"
    return f"{dotted}: {message}{at_line(text, path)}"
