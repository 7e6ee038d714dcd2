"""The domain stays pure: no I/O library, no async, no clock reads (enforced, not hoped)."""

from __future__ import annotations

import ast
from pathlib import Path

import dunning_scheduler.domain as domain
import dunning_scheduler.policy.model as policy_model

FORBIDDEN = {
    "aiokafka",
    "redis",
    "sqlalchemy",
    "asyncpg",
    "httpx",
    "fastapi",
    "jinja2",
    "babel",
    "asyncio",
    "dunning_core.runtime",
    "time",
}


def _modules() -> list[Path]:
    return [*Path(domain.__file__).parent.glob("*.py"), Path(policy_model.__file__)]


def test_domain_imports_no_io_library() -> None:
    for path in _modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), (
                    f"{path.name} imports {name}"
                )


def test_domain_has_no_async_and_never_reads_the_clock() -> None:
    for path in _modules():
        source = path.read_text()
        tree = ast.parse(source)
        assert not any(isinstance(n, ast.AsyncFunctionDef) for n in ast.walk(tree)), path.name
        for call in ("datetime.now(", "date.today(", "datetime.utcnow("):
            assert call not in source, f"{path.name} calls {call}"
