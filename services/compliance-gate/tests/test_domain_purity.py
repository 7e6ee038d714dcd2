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
    ]
)
IO_ADAPTERS = {PACKAGE / "policy" / "loader.py", PACKAGE / "policy" / "__init__.py"}
# The state the gate derives from events, and its mapping to the engine's input, read the
# event contracts (pure models), and nothing else of the shared library.
EVENT_FACING = {PACKAGE / "domain" / "state.py", PACKAGE / "domain" / "mapping.py"}
# Local windows and candidate zones are shared with the ledger (its agents' call-backs):
# pure modules of the shared library, kept pure there by import-linter.
SHARED_PURE = {"dunning_core.time_windows", "dunning_core.time_zones"}


def _modules(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _imports(tree: ast.AST) -> set[str]:
    return {name.split(".")[0] for name in _modules(tree)}


@pytest.mark.parametrize("path", [p for p in PURE_FILES if p not in IO_ADAPTERS], ids=str)
def test_pure_modules_import_no_io(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert not (_imports(tree) & (FORBIDDEN - {"dunning_core"}))
    shared = {m for m in _modules(tree) if m.split(".")[0] == "dunning_core"} - SHARED_PURE
    if path in EVENT_FACING:
        assert all(m.startswith("dunning_core.contracts") for m in shared), shared
    else:
        assert not shared
    opened = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open"
    ]
    assert not opened


def test_there_are_pure_modules_to_check() -> None:
    assert len(PURE_FILES) > 15
