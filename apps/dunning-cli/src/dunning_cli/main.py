"""``dunning``: the operator's command line.

dunning portfolio FILE        write a sample portfolio (CSV, ledger import format)
dunning import FILE           import accounts (CSV, JSON Lines) into the ledger, streamed
dunning summary               the ledger's pipeline summary
dunning account ID            one account's communication log (--timeline: its whole story)
dunning accounts search ...   accounts by name, phone, email, state, balance, days past due
dunning accounts timeline ID  an account's whole story, in order: a table, or --html/--pdf FILE
dunning accounts note ID TEXT an agent's note on an account (notes ID lists them)
dunning tasks list|claim|release|complete  the agent task queue (call-backs, replies)
dunning gate evaluate FILE    what-if: decide one step, no side effects
dunning gate explain STEP_ID  a real step's decisions, the rules behind them, its deliveries
dunning gate schema           the JSON Schema of a what-if file
dunning policy check FILE     validate a scheduler or gate policy file (field and line named)
dunning policy show [FILE]    the escalation ladder as a table
dunning demo run              a portfolio (yours or the sample) through the pipeline, accelerated
dunning demo prepare|drive    the demo's steps (deploy/local/demo.sh runs them)
dunning sandbox inbox|reply   what consumers received from the sandbox, and answering as them
dunning replies classify TEXT how the shared classifier reads replies (offline)
dunning templates preview     the scheduler's templates rendered for a sample account
dunning keys create|list|revoke  API keys (admin); the CLI's own key: DUNNING_API_KEY or
                              api_key in ~/.config/dunning/config.toml
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import httpx
import typer
from dunning_core.contracts.account_import import to_csv

from dunning_cli import client
from dunning_cli.accounts import accounts, show_timeline
from dunning_cli.endpoints import GATE, LEDGER, SANDBOX, GateUrl, LedgerUrl
from dunning_cli.importing import import_file
from dunning_cli.keys import keys
from dunning_cli.portfolio import sample_rows
from dunning_cli.records import GateDecision, StepRecord
from dunning_cli.replies import replies
from dunning_cli.sandbox import sandbox
from dunning_cli.tasks import tasks
from dunning_cli.templates import templates

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="The operator's command line: the ledger, the gate and the demo, over HTTP.",
)
gate = typer.Typer(no_args_is_help=True, help="What the compliance gate decides, and why.")
demo = typer.Typer(no_args_is_help=True, help="The demo's steps.")
app.add_typer(gate, name="gate")
policy = typer.Typer(no_args_is_help=True, help="Policy files, judged as the services judge them.")
app.add_typer(demo, name="demo")
app.add_typer(policy, name="policy")
app.add_typer(replies, name="replies")
app.add_typer(templates, name="templates")
app.add_typer(sandbox, name="sandbox")
app.add_typer(keys, name="keys")
app.add_typer(tasks, name="tasks")
app.add_typer(accounts, name="accounts")


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=False, default=str))


_error_message = client.error_message
_fail = client.fail


def _request(service: str, method: str, base: str, path: str, **request: Any) -> httpx.Response:
    return client.request(service, method, base, path, **request)


def _ledger(method: str, ledger: str, path: str, **request: Any) -> httpx.Response:
    return _request("the ledger", method, ledger, path, **request)


@app.command()
def portfolio(out: Path, accounts: int = 200, seed: int = 7) -> None:
    """Write a deterministic sample portfolio as CSV."""
    out.write_text(to_csv(sample_rows(accounts, seed)))
    print(f"wrote {accounts} accounts to {out}")


@app.command(name="import")
def import_accounts(
    file: Path,
    ledger: LedgerUrl = LEDGER,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the ledger's answer as JSON.")
    ] = False,
) -> None:
    """Import accounts from CSV (or JSON Lines: .jsonl, .ndjson), streamed with a progress
    bar; a bad file imports nothing and names each bad row and field."""
    if not import_file(file, ledger, as_json=as_json):
        raise typer.Exit(1)


@app.command()
def summary(ledger: LedgerUrl = LEDGER) -> None:
    """Accounts, steps by decision and rule, deliveries by channel and status."""
    _print_json(_ledger("GET", ledger, "/v1/summary").json())


@app.command()
def account(
    account_id: str,
    timeline: Annotated[
        bool, typer.Option("--timeline", help="Everything recorded, in order, as a table.")
    ] = False,
    ledger: LedgerUrl = LEDGER,
) -> None:
    """One account's communication log: every step, its decision and final status."""
    if timeline:
        show_timeline(ledger, account_id)
        return
    response = _ledger("GET", ledger, f"/v1/accounts/{quote(account_id, safe='')}/communications")
    if response.status_code == 404:
        _fail(f"no account {account_id}")
    _print_json(response.json())


@gate.command()
def evaluate(file: Path, gate_url: GateUrl = GATE) -> None:
    """Decide one step described in FILE (JSON, see `dunning gate schema`) with the gate's
    policy, through its what-if route. No side effects.

    Exit code: 0 allow, 3 defer, 4 block.
    """
    try:
        raw = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        _fail(f"{file}: {exc}", 2)
        return
    response = _request("the gate", "POST", gate_url, "/v1/evaluate", json=raw)
    if response.status_code >= 400:
        _fail(f"the gate answered {response.status_code}: {_error_message(response)}", 2)
    decision = GateDecision.model_validate(response.json())
    print(f"decision:       {decision.decision}")
    if decision.not_before:
        print(f"not_before:     {decision.not_before.isoformat()}")
    print(f"policy_version: {decision.policy_version}")
    for outcome in decision.outcomes:
        when = f" (until {outcome.not_before.isoformat()})" if outcome.not_before else ""
        print(f"  {outcome.action:5s} {outcome.rule_id}: {outcome.explanation}{when}")
    if not decision.outcomes:
        print("  no rule objects")
    print("inputs:")
    print(json.dumps(decision.inputs, indent=2, default=str))
    raise typer.Exit({"allow": 0, "defer": 3, "block": 4}[decision.decision])


@gate.command()
def explain(step_id: str, ledger: LedgerUrl = LEDGER) -> None:
    """Every recorded decision of a real step (rules, explanations, inputs) and its deliveries."""
    from dunning_cli.explain import render_step

    response = _ledger("GET", ledger, f"/v1/steps/{quote(step_id, safe='')}")
    if response.status_code == 404:
        _fail(f"no step {step_id} in the ledger")
    if response.status_code >= 400:
        _fail(f"the ledger answered {response.status_code}: {_error_message(response)}")
    print(render_step(StepRecord.model_validate(response.json())))


@gate.command()
def schema(gate_url: GateUrl = GATE) -> None:
    """The JSON Schema of a what-if file (the gate's GET /v1/evaluate/schema)."""
    response = _request("the gate", "GET", gate_url, "/v1/evaluate/schema")
    if response.status_code >= 400:
        _fail(f"the gate answered {response.status_code}: {_error_message(response)}")
    _print_json(response.json())


@policy.command("check")
def policy_check(
    file: Path,
    kind: Annotated[
        str, typer.Option(help="auto (by its keys), scheduler (escalation ladder) or gate.")
    ] = "auto",
) -> None:
    """Validate a policy file as the scheduler or the gate would at start-up.

    Exit code: 0 valid, 1 invalid (each problem names its field and line), 2 bad usage.
    """
    from dunning_cli.policy import Kind, PolicyProblem, check

    try:
        chosen = Kind(kind)
    except ValueError:
        _fail(f"--kind must be one of {', '.join(k.value for k in Kind)}", 2)
        return
    try:
        print(check(file, chosen))
    except PolicyProblem as exc:
        _fail(str(exc))


@policy.command("show")
def policy_show(
    file: Annotated[
        Path | None, typer.Argument(help="An escalation policy; default: the built-in one.")
    ] = None,
) -> None:
    """The escalation ladder as a table: stages, days, channels, templates, attempts."""
    from dunning_cli.policy import PolicyProblem, ladder, print_ladder

    try:
        print_ladder(ladder(file))
    except PolicyProblem as exc:
        _fail(str(exc))


@demo.command("prepare")
def demo_prepare(
    prefix: Annotated[str, typer.Option(help="Topic prefix of this run.")],
    database: Annotated[str, typer.Option()] = "dunning_demo",
    redis_url: Annotated[str, typer.Option()] = "redis://127.0.0.1:16379/1",
    admin_dsn: Annotated[
        str, typer.Option()
    ] = "postgresql://dunning:dunning@127.0.0.1:15432/dunning",
    kafka: Annotated[str, typer.Option()] = "127.0.0.1:19092",
    signing_key: Annotated[Path, typer.Option()] = Path(
        ".state/sandbox/sendgrid-event-webhook.pem"
    ),
) -> None:
    """Fresh topics, database and Redis for a demo run; prints the webhook public key."""
    from dunning_cli.demo import prepare, signing_public_key

    asyncio.run(
        prepare(
            kafka=kafka, prefix=prefix, admin_dsn=admin_dsn, database=database, redis_url=redis_url
        )
    )
    print(signing_public_key(signing_key))


@demo.command("signing-key")
def demo_signing_key(pem: Path) -> None:
    """Print the public half of the sandbox's Event Webhook signing key (made if missing)."""
    from dunning_cli.demo import signing_public_key

    print(signing_public_key(pem))


@demo.command("run")
def demo_run(
    portfolio: Annotated[
        Path | None,
        typer.Option(help="Your own portfolio (CSV, or JSON); default: a sample one."),
    ] = None,
    days: Annotated[float, typer.Option(help="Simulated days to let pass.", min=0.1)] = 5.0,
    speed: Annotated[
        float, typer.Option(help="Simulated seconds per real second.", min=1.0)
    ] = 4800.0,
    accounts: Annotated[int, typer.Option(help="Size of the sample portfolio.")] = 200,
) -> None:
    """A dry run before going live: the whole pipeline on its own topics, database and
    accelerated clock, against the provider sandbox; ends with the summary and stops."""
    script = Path("deploy/local/demo.sh")
    if not script.exists():
        _fail("run this from the repository's root (deploy/local/demo.sh starts the pipeline)")
    if portfolio is not None and not portfolio.is_file():
        _fail(f"no portfolio file {portfolio}")
    env = {
        **os.environ,
        "DEMO_SPEED": f"{speed:g}",
        "DEMO_SECONDS": f"{max(10.0, days * 86_400 / speed):.0f}",
        "DEMO_ACCOUNTS": str(accounts),
    }
    if portfolio is not None:
        env["DEMO_PORTFOLIO"] = str(portfolio.resolve())
    raise typer.Exit(subprocess.run(["bash", str(script)], env=env, check=False).returncode)


@demo.command("drive")
def demo_drive(
    accounts: int = 200,
    duration: float = 90.0,
    portfolio: Annotated[Path | None, typer.Option()] = None,
    ledger: LedgerUrl = LEDGER,
    sandbox: str = SANDBOX,
    grace: Annotated[
        float, typer.Option(help="Seconds the sample may run on while a stage has no step.")
    ] = 30.0,
) -> None:
    """Import the portfolio into running services, let simulated time pass, print the summary."""
    from dunning_cli.demo import PortfolioRefused, run
    from dunning_cli.report import render_summary

    try:
        result = asyncio.run(
            run(
                accounts=accounts,
                duration_s=duration,
                grace_s=grace,
                ledger_url=ledger,
                sandbox_url=sandbox,
                portfolio=None
                if portfolio is None
                else (
                    portfolio.read_bytes(),
                    "application/json" if portfolio.suffix == ".json" else "text/csv",
                ),
            )
        )
    except PortfolioRefused as exc:
        _fail(f"the ledger refused the portfolio: {exc}")
    print(render_summary(result))


if __name__ == "__main__":
    app()
