"""deploy/docker/Dockerfile and .dockerignore, read as text (no Docker engine needed).

The Dockerfile is parsed into instructions (continuation lines joined, comments dropped) and
checked for what the image promises: the locked, dev-free workspace installed by uv, every
member's pyproject in the dependency layer, one Python for both stages, a non-root numeric
user that matches the pods' runAsUser, no secrets and no HEALTHCHECK.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deploy" / "docker" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
K8S_BASE = REPO / "deploy" / "k8s" / "base"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    stage: int  # index of the FROM it belongs to; -1 before the first


def parse(text: str) -> list[Instruction]:
    instructions: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, " ".join(args.split()), stage))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse(DOCKERFILE.read_text())


def arg_defaults(instructions: list[Instruction]) -> dict[str, str]:
    found = {}
    for i in instructions:
        if i.keyword == "ARG" and "=" in i.args:
            name, _, value = i.args.partition("=")
            found[name] = value
    return found


def expand(value: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m[1] or m[2], m[0]), value)


def stages(instructions: list[Instruction]) -> dict[str, tuple[int, str]]:
    """Stage name -> (index, image it starts from, ARGs expanded)."""
    args = arg_defaults(instructions)
    found = {}
    for i in instructions:
        if i.keyword == "FROM":
            image, _, name = i.args.partition(" AS ")
            found[name.strip() or str(i.stage)] = (i.stage, expand(image.strip(), args))
    return found


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    last = max(i.stage for i in instructions)
    return [i for i in instructions if i.stage == last]


def test_parse_joins_continuations_and_skips_comments() -> None:
    parsed = parse("# c\nFROM a AS b\nRUN one \\\n  # inside\n  two\nUSER 1\n")
    assert parsed == [
        Instruction("FROM", "a AS b", 0),
        Instruction("RUN", "one two", 0),
        Instruction("USER", "1", 0),
    ]


def test_both_stages_use_one_python_3_11_slim(instructions: list[Instruction]) -> None:
    found = stages(instructions)
    assert found["build"][1] == found["runtime"][1]
    assert found["runtime"][1].startswith("python:3.11-slim")
    assert max(index for index, _ in found.values()) == found["runtime"][0], "runtime is last"


def test_uv_comes_from_the_official_image_at_a_pinned_version(
    instructions: list[Instruction],
) -> None:
    image = stages(instructions)["uv"][1]
    repository, _, tag = image.partition(":")
    assert repository == "ghcr.io/astral-sh/uv"
    assert re.fullmatch(r"\d+\.\d+\.\d+", tag), f"pin uv, not {tag!r}"
    copies = [i.args for i in instructions if i.keyword == "COPY" and "--from=uv" in i.args]
    assert copies == ["--from=uv /uv /uvx /bin/"]


def test_the_workspace_is_installed_from_the_lock_without_dev_tools(
    instructions: list[Instruction],
) -> None:
    syncs = [i for i in instructions if i.keyword == "RUN" and "uv sync" in i.args]
    assert len(syncs) >= 1
    for sync in syncs:
        assert "--frozen" in sync.args.split(), sync.args
        assert "--no-dev" in sync.args.split(), sync.args
        assert sync.stage == stages(instructions)["build"][0]
    build = [i for i in instructions if i.stage == stages(instructions)["build"][0]]
    first_sync = build.index(syncs[0])
    copied_before = " ".join(i.args for i in build[:first_sync] if i.keyword == "COPY")
    assert "uv.lock" in copied_before
    assert "pyproject.toml" in copied_before


def workspace_members() -> list[str]:
    root = tomllib.loads((REPO / "pyproject.toml").read_text())
    members: list[str] = []
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        members += sorted(
            str(p.parent.relative_to(REPO)) for p in REPO.glob(f"{pattern}/pyproject.toml")
        )
    return members


def test_every_member_is_in_the_dependency_layer(instructions: list[Instruction]) -> None:
    """`uv sync --no-install-workspace` still reads every member's pyproject: a member added
    to the workspace but not copied here breaks the build."""
    copies = {
        i.args.split()[0]
        for i in instructions
        if i.keyword == "COPY" and i.args.split()[0].endswith("/pyproject.toml")
    }
    assert len(workspace_members()) >= 8
    assert copies == {f"{m}/pyproject.toml" for m in workspace_members()}


def test_the_runtime_stage_runs_as_the_pods_non_root_user(
    instructions: list[Instruction],
) -> None:
    users = [i.args for i in final_stage(instructions) if i.keyword == "USER"]
    assert users, "the runtime stage sets no USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit(), "numeric, so that runAsNonRoot can check it"
    assert int(uid) != 0
    assert gid.isdigit()
    assert int(gid) != 0
    for path in K8S_BASE.glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["kind"] == "Deployment":
                pod = doc["spec"]["template"]["spec"]["securityContext"]
                assert (pod["runAsUser"], pod["runAsGroup"]) == (int(uid), int(gid)), path.name


def test_the_runtime_stage_writes_no_bytecode_and_has_no_healthcheck(
    instructions: list[Instruction],
) -> None:
    env = " ".join(i.args for i in final_stage(instructions) if i.keyword == "ENV")
    assert re.search(r"\bPYTHONDONTWRITEBYTECODE=1\b", env)
    assert "HEALTHCHECK" not in {i.keyword for i in instructions}
    runtime_copies = [i.args for i in final_stage(instructions) if i.keyword == "COPY"]
    assert runtime_copies
    assert all("--from=build" in c for c in runtime_copies), "only the built venv"


def test_no_secret_is_baked_in(instructions: list[Instruction]) -> None:
    for i in instructions:
        if i.keyword in ("ENV", "ARG", "LABEL"):
            assert not re.search(r"SECRET|TOKEN|PASSWORD|API_KEY|AUTH", i.args, re.I), i.args


def test_the_default_command_is_a_real_entry_point(instructions: list[Instruction]) -> None:
    [cmd] = [i.args for i in final_stage(instructions) if i.keyword == "CMD"]
    root = tomllib.loads((REPO / "apps/dunning-cli/pyproject.toml").read_text())
    assert cmd.startswith('["dunning"')
    assert "dunning" in root["project"]["scripts"]


# ---------------------------------------------------------------------------------------------
# .dockerignore


def ignore_patterns() -> list[str]:
    lines = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, enough for these patterns: the last matching pattern wins, `!` re-includes,
    a pattern matches a path or any of its parent folders, `**/` matches any depth."""
    result = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern.lstrip("!").strip("/")
        candidates = [glob]
        if glob.startswith("**/"):
            candidates.append(glob[3:])
        if any(fnmatchcase(p, g) or fnmatchcase(p, "*/" + g) for p in prefixes for g in candidates):
            result = not negate
    return result


def test_the_ignore_rule_reader() -> None:
    patterns = ["docs", "**/__pycache__", "deploy", "!deploy/docker/Dockerfile"]
    assert ignored("docs/deploy.md", patterns)
    assert ignored("libs/x/src/y/__pycache__/z.pyc", patterns)
    assert ignored("deploy/k8s/base/gate.yaml", patterns)
    assert not ignored("deploy/docker/Dockerfile", patterns)
    assert not ignored("libs/x/pyproject.toml", patterns)


@pytest.mark.parametrize(
    "path",
    [
        ".state/kafka/data",
        ".venv/bin/python",
        "bench/results/gate.json",
        ".mypy_cache/x.json",
        ".ruff_cache/x",
        ".pytest_cache/v",
        ".hypothesis/examples",
        "libs/dunning-core/src/dunning_core/__pycache__/x.cpython-311.pyc",
        ".env",
        ".git/HEAD",
    ],
)
def test_local_state_and_caches_stay_out_of_the_context(path: str) -> None:
    assert ignored(path, ignore_patterns())


def test_everything_the_dockerfile_copies_is_in_the_context(
    instructions: list[Instruction],
) -> None:
    sources = [
        src
        for i in instructions
        if i.keyword == "COPY" and "--from=" not in i.args
        for src in i.args.split()[:-1]
        if not src.startswith("--")
    ]
    assert "uv.lock" in sources
    for src in sources:
        path = REPO / src
        assert path.exists(), src
        files = [path] if path.is_file() else [p for p in path.rglob("*.py") if p.is_file()]
        kept = [p for p in files if not ignored(str(p.relative_to(REPO)), ignore_patterns())]
        assert kept, f"{src} is excluded by .dockerignore"
    assert not ignored("uv.lock", ignore_patterns())
