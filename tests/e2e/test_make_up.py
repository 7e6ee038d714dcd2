"""`make up` as a new operator uses it: the system left running, the CLI from a fresh shell.

`make up` starts the stack's services (on an accelerated clock given through the
environment, as `.env` may), a file is imported with `./dunning import` from an environment
holding nothing but PATH and HOME, the first text reaches the sandbox's inbox, the consumer
answers STOP through `./dunning sandbox reply`, and no later step texts them again while
the e-mail outreach goes on. `make down` then leaves no process of ours running.

This module runs before test_skeleton.py (file order): the pipeline fixture of that one
stops any service left running before it starts its own.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from dunning_cli.portfolio import sample_rows
from dunning_core.contracts.account_import import to_csv
from dunning_testkit.paths import REPO, auth_headers, service_url

pytestmark = pytest.mark.e2e

LEDGER = service_url("ledger")
SPEED = 7200  # a simulated week in 84 s
START = "2026-03-03T15:00:00+00:00"  # Tuesday, 10:00 in New York
BOOT_S = 25  # the clock starts this long after `make up` begins (~12 s here); the import waits


def fresh_env(**extra: str) -> dict[str, str]:
    """What a new shell has: PATH without uv's folder, HOME; nothing of ours."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": os.environ["HOME"], **extra}


def run(args: list[str], env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(
        args, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def our_processes() -> list[str]:
    """Command lines of the services running from this checkout (services.sh marks each
    with DUNNING_SERVICE and runs it from the repository's root)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = (proc / "cwd").resolve()
        except OSError:
            continue
        if cwd == REPO.resolve() and any(e.startswith(b"DUNNING_SERVICE=") for e in environ):
            found.append(f"{proc.name}: {cmdline}")
    return found


@pytest.fixture
def system(tmp_path: Path) -> Iterator[dict[str, str]]:
    epoch = time.time() + BOOT_S
    env = fresh_env(
        DUNNING_CLOCK_START=START,
        DUNNING_CLOCK_SPEED=str(SPEED),
        DUNNING_CLOCK_EPOCH=f"{epoch:.3f}",
    )
    try:
        out = run(["make", "up"], env, timeout=600)
        assert "Dunning is up" in out, out
        assert LEDGER in out, out
        # Idempotent: a second `make up` starts nothing new and says the same.
        assert "Dunning is up" in run(["make", "up"], env, timeout=300)
        time.sleep(max(0.0, epoch - time.time()))
        yield env
    finally:
        out = run(["make", "down"], env)
    assert "Dunning is down" in out
    assert our_processes() == []


def one_account(tmp_path: Path) -> tuple[dict[str, str], Path]:
    row = next(r for r in sample_rows(12, seed=11) if r["state"] == "NY")
    tag = f"{random.randrange(10**6):06d}"
    row = {
        **row,
        "account_id": f"UP-{tag}",
        "debt_id": f"UPD-{tag}",
        "phone": f"+12125551{tag[-3:]}",  # 1000-1999: none of the sandbox's test numbers
        "email": f"up.{tag}@example.com",
    }
    path = tmp_path / "portfolio.csv"
    path.write_text(to_csv([row]))
    return row, path


def steps(account_id: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{LEDGER}/v1/accounts/{account_id}/communications", headers=auth_headers(), timeout=30
    )
    response.raise_for_status()
    return list(response.json()["steps"])


def inbox(env: dict[str, str], to: str) -> str:
    return run(["./dunning", "sandbox", "inbox", "--to", to], env)


def texts_to(phone: str) -> int:
    """How many texts the sandbox accepted for this phone (its own record)."""
    response = httpx.get(f"{service_url('sandbox')}/_sandbox/messages?channel=sms", timeout=30)
    response.raise_for_status()
    return sum(1 for m in response.json()["messages"] if m["to"] == phone)


def wait_for(what: str, check: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(2)
    raise AssertionError(f"not seen within {seconds:.0f} s: {what}")


def decided_after(step: dict[str, Any], instant: datetime) -> bool:
    first = step.get("first_decided_at")
    return first is not None and datetime.fromisoformat(first) > instant


def test_make_up_import_stop_and_down(system: dict[str, str], tmp_path: Path) -> None:
    env = system
    row, path = one_account(tmp_path)
    out = run(["./dunning", "import", str(path)], env)
    assert "opened" in out, out

    wait_for(
        "the first text in the sandbox's inbox",
        lambda: row["phone"] in inbox(env, row["phone"]),
        90,
    )
    # The ledger records the text's status a moment after the provider took it (the
    # worker's report, then the ledger's consumer): waited for, not raced.
    wait_for(
        "the text's delivery status in the ledger",
        lambda: [s for s in steps(row["account_id"]) if s["channel"] == "sms" and s["delivery"]],
        30,
    )

    texts_before = texts_to(row["phone"])
    out = run(["./dunning", "sandbox", "reply", row["phone"], "STOP"], env)
    assert "delivered to our webhook" in out, out
    stopped_at = max(
        datetime.fromisoformat(s["first_decided_at"]) for s in steps(row["account_id"])
    )

    # The outreach goes on by e-mail (a step decided after the STOP) ...
    later = wait_for(
        "a step planned after the STOP",
        lambda: [s for s in steps(row["account_id"]) if decided_after(s, stopped_at)],
        150,
    )

    # ... once every step of then has settled (sent and final, or not allowed) ...
    def settled() -> list[dict[str, Any]]:
        after = [s for s in steps(row["account_id"]) if decided_after(s, stopped_at)]
        done = all(
            s["decision"] in ("block", "defer") or (s["delivery"] and s["delivery"]["final"])
            for s in after
        )
        return after if done else []

    wait_for("the steps after the STOP settled", settled, 120)
    # ... no text decided after it was allowed out.
    for step in steps(row["account_id"]):
        if step["channel"] == "sms" and decided_after(step, stopped_at):
            assert step["decision"] != "allow", json.dumps(step)
    assert any(s["channel"] == "email" for s in later), later
    assert texts_to(row["phone"]) == texts_before
