"""``lotflow verify``: point lotflow at one running portal and learn where it deviates from the
contract (see docs/verify.md)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click
from rich.console import Console

from lotflow.errors import ConfigError
from lotflow.verify.baseline import load_baseline, write_baseline
from lotflow.verify.credentials import load_credentials
from lotflow.verify.registry import Direction, all_checks, select_checks
from lotflow.verify.reports import TerminalReporter, write_html, write_json, write_junit
from lotflow.verify.runner import run_checks
from lotflow.verify.scorecard import Scorecard
from lotflow.verify.session import Budget, VerifySession

FILE = click.Path(dir_okay=False, path_type=Path)


@click.group(invoke_without_command=True)
@click.option(
    "--list-checks", is_flag=True, help="List every check (id, direction, what it checks)."
)
@click.pass_context
def verify(ctx: click.Context, list_checks: bool) -> None:
    """Check one running portal against the contract, check by check.

    Exit codes: 0 no new failure (and the score reaches --fail-under), 1 a contract failure,
    2 a usage or configuration error (a bad option, an unreachable portal).
    """
    if list_checks:
        _list_checks()
    elif ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


def _list_checks() -> None:
    checks = all_checks()
    built = {c.direction for c in checks}
    for direction in Direction:
        if direction not in built:
            continue
        click.echo(f"{direction}:")
        for check in (c for c in checks if c.direction is direction):
            click.echo(f"  {check.id}\n      {check.description}")
    missing = [str(d) for d in Direction if d not in built]
    if missing:
        click.echo(f"Not built yet: {', '.join(missing)}.")


def _url(value: str, name: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} {value!r} is not an http(s) URL; e.g. http://localhost:3004.")
    return value


@verify.command("buyer")
@click.argument("url")
@click.option(
    "--api-key",
    metavar="KEY",
    help="The producer key (X-API-Key). Default: LOTFLOW_VERIFY_API_KEY, then PRODUCER_API_KEY.",
)
@click.option(
    "--buyer-header",
    multiple=True,
    metavar="'NAME: VALUE'",
    help="A header for the buyer's own side (repeatable), e.g. 'Authorization: Bearer T'.",
)
@click.option(
    "--buyer-cookie",
    multiple=True,
    metavar="NAME=VALUE",
    help="A cookie for the buyer's own side (repeatable), e.g. '__session=<jwt>'.",
)
@click.option(
    "--credentials",
    "credentials_file",
    type=FILE,
    help="YAML/JSON file: {producer: {api_key, headers, cookies}, buyer: {headers, cookies}}.",
)
@click.option(
    "--state-url",
    metavar="URL",
    help="Provider-state URL: POST {state, params} sets up entities (instead of the operator API).",
)
@click.option(
    "--legacy",
    is_flag=True,
    help="Speak today's dialect ({error} bodies); each such point is reported as a deviation.",
)
@click.option(
    "--check",
    "checks",
    multiple=True,
    metavar="ID",
    help="Run only this check (repeatable; 'buyer.api.*' works).",
)
@click.option(
    "--skip", "skipped", multiple=True, metavar="ID", help="Skip this check (repeatable)."
)
@click.option(
    "--max-examples",
    type=click.IntRange(1, 100_000),
    default=25,
    show_default=True,
    help="Schemathesis examples per operation.",
)
@click.option(
    "--time-budget",
    type=click.FloatRange(0.1),
    metavar="SECONDS",
    help="Stop drawing Schemathesis cases after this long (per fuzzing check).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random draw.")
@click.option(
    "--concurrency",
    type=click.IntRange(2, 64),
    default=6,
    show_default=True,
    help="Duplicates sent at once by the concurrency checks.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1),
    default=10.0,
    show_default=True,
    help="Seconds to wait for each answer.",
)
@click.option("--junit", type=FILE, help="Write JUnit XML here.")
@click.option("--json", "json_path", type=FILE, help="Write the JSON result here.")
@click.option("--html", type=FILE, help="Write the self-contained HTML report here.")
@click.option(
    "--baseline",
    type=FILE,
    help="Accepted deviations (by check id and subject): only new failures fail the run.",
)
@click.option("--write-baseline", type=FILE, help="Write this run's failures as a baseline.")
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    metavar="SCORE",
    help="Also fail (exit 1) when the score is below this percentage.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show every exchange of each failure.")
def buyer(url: str, **options: object) -> None:
    """Verify a buyer portal at URL: its producer-facing API and its workflow.

    Checks that need what was not given (the producer key, the buyer's operator credentials or
    a state URL) are reported as not run, with what to provide, and never count as passed.
    """
    session = _session(_url(url, "URL"), options)
    checks = select_checks("buyer", options["checks"], options["skipped"])  # type: ignore[arg-type]
    baseline = None
    if options["baseline"]:
        baseline = load_baseline(options["baseline"], [c.id for c in all_checks()])  # type: ignore[arg-type]
    reporter = TerminalReporter(Console(), verbose=bool(options["verbose"]))
    reporter.console.print(f"lotflow verify buyer {url}: {len(checks)} checks")
    card = asyncio.run(run_checks(session, checks, reporter.handle))
    if baseline is not None:
        card = card.with_results(baseline.apply(card.results))
    reporter.summary(card)
    _write(card, options)
    sys.exit(card.exit_code(options["fail_under"]))  # type: ignore[arg-type]


def _session(url: str, options: dict[str, object]) -> VerifySession:
    credentials = load_credentials(
        api_key=options["api_key"],  # type: ignore[arg-type]
        buyer_headers=options["buyer_header"],  # type: ignore[arg-type]
        buyer_cookies=options["buyer_cookie"],  # type: ignore[arg-type]
        file=options["credentials_file"],  # type: ignore[arg-type]
        env=os.environ,
    )
    state_url = options["state_url"]
    budget = Budget(
        max_examples=int(options["max_examples"]),  # type: ignore[call-overload]
        time_budget=options["time_budget"],  # type: ignore[arg-type]
        seed=int(options["seed"]),  # type: ignore[call-overload]
        concurrency=int(options["concurrency"]),  # type: ignore[call-overload]
    )
    return VerifySession(
        url,
        credentials,
        state_url=_url(str(state_url), "--state-url") if state_url else None,
        legacy=bool(options["legacy"]),
        budget=budget,
        timeout=float(options["timeout"]),  # type: ignore[arg-type]
    )


def _write(card: Scorecard, options: dict[str, object]) -> None:
    writers = (("junit", write_junit), ("json_path", write_json), ("html", write_html))
    for name, write in writers:
        path = options[name]
        if isinstance(path, Path):
            write(card, path)
            click.echo(f"wrote {path}")
    if isinstance(options["write_baseline"], Path):
        count = write_baseline(options["write_baseline"], card.results)
        click.echo(f"wrote {options['write_baseline']} ({count} accepted failures)")
