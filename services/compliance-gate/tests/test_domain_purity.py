"""The rule engine stays pure: no I/O, no clients, no event contracts in the domain."""

from __future__ import annotations

import ast
from pathlib import Path

import dunning_gate
import pytest

PACKAGE = Path(dunning_gate.__file__).parent
FORBIDDEN = {
    "asyncio",
    "socket",
    "subprocess",
    "os",
    "io",
    "pathlib",
    "urllib",
    "http",
    "requests",
    "httpx",
    "redis",
    "aiokafka",
    "confluent_kafka",
    "asyncpg",
    "sqlalchemy",
    "yaml",
    "importlib",
    "dunning_core",
}
PURE_FILES = sorted(
    [
        *PACKAGE.joinpath("domain").rglob("*.py"),
        *PACKAGE.joinpath("policy").glob("*.py"),
        PACKAGE / "watermark.py",
    ]
)
IO_ADAPTERS = {PACKAGE / "policy" / "loader.py", PACKAGE / "policy" / "__init__.py"}


def _imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("path", [p for p in PURE_FILES if p not in IO_ADAPTERS], ids=str)
def test_pure_modules_import_no_io(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert not (_imports(tree) & FORBIDDEN)
    opened = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open"
    ]
    assert not opened


def test_there_are_pure_modules_to_check() -> None:
    assert len(PURE_FILES) > 15
