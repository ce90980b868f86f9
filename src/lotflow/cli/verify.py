"""``lotflow verify``: point lotflow at one running portal and learn where it deviates from the
contract (see docs/verify.md). ``verify buyer URL`` and ``verify producer URL`` take the same run
options (:func:`run_options`), each with its party's credentials."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click
from rich.console import Console

from lotflow.credentials import (
    BuyerCredentials,
    Credentials,
    load_buyer_credentials,
    read_env_file,
)
from lotflow.errors import ConfigError
from lotflow.openapi import load_portal_spec
from lotflow.signing import secret_key, split_secrets
from lotflow.verify.baseline import load_baseline, write_baseline
from lotflow.verify.listener import WebhookListener
from lotflow.verify.registry import Direction, all_checks, select_checks
from lotflow.verify.reports import TerminalReporter, write_html, write_json, write_junit
from lotflow.verify.runner import run_checks
from lotflow.verify.scorecard import Scorecard
from lotflow.verify.session import Budget, VerifySession
from lotflow.verify.simulated import SimulatedBuyer

FILE = click.Path(dir_okay=False, path_type=Path)
F = TypeVar("F", bound=Callable[..., Any])
DEFAULTS = Budget()


@click.group(invoke_without_command=True)
@click.option(
    "--list-checks", is_flag=True, help="List every check: id, direction, what it checks."
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
    for direction in (d for d in Direction if d in built):
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


# ---------------------------------------------------------------------------------- run options


@dataclass(frozen=True)
class RunOptions:
    """What every ``verify <party>`` run takes besides the party's credentials."""

    checks: tuple[str, ...]
    skipped: tuple[str, ...]
    legacy: bool
    max_examples: int
    time_budget: float | None
    seed: int
    concurrency: int
    timeout: float
    junit: Path | None
    json_path: Path | None
    html: Path | None
    baseline: Path | None
    write_baseline: Path | None
    fail_under: float | None
    verbose: bool

    @property
    def budget(self) -> Budget:
        return Budget(self.max_examples, self.time_budget, self.seed, self.concurrency)


_RUN_OPTIONS = (
    click.option("--legacy", is_flag=True,
                 help="Speak today's dialect ({error} bodies); each such point is a deviation."),
    click.option("--check", "checks", multiple=True, metavar="ID",
                 help="Run only this check (repeatable; 'buyer.api.*' works)."),
    click.option("--skip", "skipped", multiple=True, metavar="ID",
                 help="Skip this check (repeatable)."),
    click.option("--max-examples", type=click.IntRange(1, 100_000), default=DEFAULTS.max_examples,
                 show_default=True, help="Schemathesis examples per operation."),
    click.option("--time-budget", type=click.FloatRange(0.1), metavar="SECONDS",
                 help="Stop drawing Schemathesis cases after this long (per fuzzing check)."),
    click.option("--seed", type=int, default=DEFAULTS.seed, show_default=True,
                 help="Seed of every random draw."),
    click.option("--concurrency", type=click.IntRange(2, 64), default=DEFAULTS.concurrency,
                 show_default=True,
                 help="Duplicates sent at once by the concurrency checks."),
    click.option("--timeout", type=click.FloatRange(0.1), default=10.0, show_default=True,
                 help="Seconds to wait for each answer."),
    click.option("--junit", type=FILE, help="Write JUnit XML here."),
    click.option("--json", "json_path", type=FILE, help="Write the JSON result here."),
    click.option("--html", type=FILE, help="Write the self-contained HTML report here."),
    click.option("--baseline", type=FILE,
                 help="Accepted deviations (by check id and subject): only new failures fail."),
    click.option("--write-baseline", type=FILE, help="Write this run's failures as a baseline."),
    click.option("--fail-under", type=click.FloatRange(0, 100), metavar="SCORE",
                 help="Also fail (exit 1) when the score is below this percentage."),
    click.option("-v", "--verbose", is_flag=True, help="Show every exchange of each failure."),
)  # fmt: skip


def run_options(command: F) -> F:
    """Add the options every ``verify <party>`` command takes."""
    for option in reversed(_RUN_OPTIONS):
        command = option(command)
    return command


def _run_options(values: dict[str, Any]) -> RunOptions:
    names = RunOptions.__dataclass_fields__
    return RunOptions(**{name: values.pop(name) for name in list(values) if name in names})


# ---------------------------------------------------------------------------------- buyer


@verify.command("buyer")
@click.argument("url")
@click.option(
    "--api-key",
    metavar="KEY",
    help="The producer key (X-API-Key). Default: BUYER_API_KEY, then PRODUCER_API_KEY.",
)
@click.option(
    "--operator-token",
    metavar="TOKEN",
    help="A buyer operator token, sent as 'Authorization: Bearer TOKEN'.",
)
@click.option(
    "--buyer-header",
    "--operator-header",
    "buyer_header",
    multiple=True,
    metavar="'NAME: VALUE'",
    help="A header for the buyer's own side (repeatable), e.g. 'Authorization: Bearer T'.",
)
@click.option(
    "--buyer-cookie",
    "--operator-cookie",
    "buyer_cookie",
    multiple=True,
    metavar="NAME=VALUE",
    help="A cookie for the buyer's own side (repeatable), e.g. '__session=<jwt>'.",
)
@click.option(
    "--credentials",
    "credentials_file",
    type=FILE,
    help="A .env file of credentials (names in docs/verify.md; lotflow pact verify reads it too).",
)
@click.option(
    "--state-url",
    metavar="URL",
    help="Provider-state URL: POST {state, params} sets up entities (instead of the operator API).",
)
@click.option(
    "--webhook-listen",
    metavar="HOST:PORT",
    help="Receive the buyer's webhooks here (port 0: a free one); point the buyer's "
    "PRODUCER_DASHBOARD_WEBHOOK_URL at the address printed. Without it the webhook checks "
    "are not run.",
)
@click.option(
    "--webhook-secret",
    metavar="SECRET",
    help="The secret(s) the buyer signs webhooks with. Default: PRODUCER_DASHBOARD_WEBHOOK_SECRET.",
)
@click.option(
    "--sender-timeout",
    type=click.FloatRange(0.01),
    default=DEFAULTS.sender_timeout,
    show_default=True,
    metavar="SECONDS",
    help="The buyer's timeout per webhook attempt (verify holds one answer past it).",
)
@click.option(
    "--delivery-deadline",
    type=click.FloatRange(0.1),
    default=DEFAULTS.delivery_deadline,
    show_default=True,
    metavar="SECONDS",
    help="How long the buyer's webhooks (and their retries) may take to arrive.",
)
@run_options
def buyer(
    url: str,
    api_key: str | None,
    operator_token: str | None,
    buyer_header: tuple[str, ...],
    buyer_cookie: tuple[str, ...],
    credentials_file: Path | None,
    state_url: str | None,
    webhook_listen: str | None,
    webhook_secret: str | None,
    sender_timeout: float,
    delivery_deadline: float,
    **values: Any,
) -> None:
    """Verify a buyer portal at URL: its producer-facing API and its workflow.

    Checks that need what was not given (the producer key, the buyer's operator credentials or
    a state URL) are reported as not run, with what to provide, and never count as passed.
    """
    options = _run_options(values)
    credentials = load_buyer_credentials(
        api_key=api_key,
        operator_token=operator_token,
        operator_headers=buyer_header,
        operator_cookies=buyer_cookie,
        file=credentials_file,
        env=os.environ,
    )
    found = {**(read_env_file(credentials_file) if credentials_file else {}), **os.environ}
    budget = dataclasses.replace(
        options.budget, sender_timeout=sender_timeout, delivery_deadline=delivery_deadline
    )
    session = VerifySession(
        _url(url, "URL"),
        credentials,
        state_url=_url(state_url, "--state-url") if state_url else None,
        legacy=options.legacy,
        budget=budget,
        timeout=options.timeout,
        webhook_secrets=_secrets(webhook_secret or found.get("PRODUCER_DASHBOARD_WEBHOOK_SECRET")),
    )
    if webhook_listen is None:
        sys.exit(_run("buyer", session, options))
    with WebhookListener(*_host_port(webhook_listen)).running() as listener:
        click.echo(f"Receiving the buyer's webhooks at {listener.url} (its webhook URL)")
        session.webhooks = listener
        code = _run("buyer", session, options)
    sys.exit(code)


def _host_port(value: str, flag: str = "--webhook-listen") -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"{flag} {value!r} is not HOST:PORT; e.g. 127.0.0.1:3000.")
    return host, int(port)


# ---------------------------------------------------------------------------------- producer


@verify.command("producer")
@click.argument("url")
@click.option(
    "--webhook-secret",
    metavar="SECRET",
    help="The secret(s) the producer verifies webhooks with (space-separated during a rotation). "
    "Default: BUYER_WEBHOOK_SECRET.",
)
@click.option(
    "--lot-secret",
    metavar="SECRET",
    help="The lot receiver's secret when it differs. Default: MARKETPLACE_WEBHOOK_SECRET.",
)
@click.option(
    "--operator-token",
    metavar="TOKEN",
    help="A producer operator token (reads the producer's state). "
    "Default: LOTFLOW_PRODUCER_OPERATOR_TOKEN.",
)
@click.option(
    "--credentials",
    "credentials_file",
    type=FILE,
    help="A .env file with the names above (NAME=value lines).",
)
@click.option(
    "--answer-within",
    type=click.FloatRange(0.01),
    default=DEFAULTS.answer_within,
    show_default=True,
    metavar="SECONDS",
    help="How long a receiver may take to acknowledge one delivery.",
)
@click.option(
    "--buyer-listen",
    metavar="HOST:PORT",
    help="Play the producer's buyer here (a buyer simulator); start the producer with "
    "NEXT_PUBLIC_BUYER_DASHBOARD_URL=http://HOST:PORT. Without it the producer.client checks "
    "are not run.",
)
@click.option(
    "--buyer-key",
    metavar="KEY",
    help="The key the producer sends its buyer (its BUYER_API_KEY). Default: BUYER_API_KEY; "
    "else one is made up and printed.",
)
@run_options
def producer(
    url: str,
    webhook_secret: str | None,
    lot_secret: str | None,
    operator_token: str | None,
    credentials_file: Path | None,
    answer_within: float,
    buyer_listen: str | None,
    buyer_key: str | None,
    **values: Any,
) -> None:
    """Verify a producer portal at URL: its webhook receivers and its calls to the buyer.

    verify plays the buyer: it signs deliveries with the webhook secret and sends them to the
    receivers the spec names, and with --buyer-listen it serves the buyer's API for the producer
    to call. Without the secret the receiver checks are not run; without an operator token, the
    checks that read or drive the producer's state are not run.
    """
    options = _run_options(values)
    found = {**(read_env_file(credentials_file) if credentials_file else {}), **os.environ}
    token = operator_token or found.get("LOTFLOW_PRODUCER_OPERATOR_TOKEN")
    operator = Credentials({"Authorization": f"Bearer {token}"} if token else {})
    session = VerifySession(
        _url(url, "URL"),
        BuyerCredentials(operator=operator),
        legacy=options.legacy,
        budget=dataclasses.replace(options.budget, answer_within=answer_within),
        timeout=options.timeout,
        spec=load_portal_spec("producer"),
        webhook_secrets=_secrets(webhook_secret or found.get("BUYER_WEBHOOK_SECRET")),
        lot_secrets=_secrets(lot_secret or found.get("MARKETPLACE_WEBHOOK_SECRET")),
    )
    if buyer_listen is None:
        sys.exit(_run("producer", session, options))
    host, port = _host_port(buyer_listen, "--buyer-listen")
    key = buyer_key or found.get("BUYER_API_KEY")
    secret = session.webhook_secrets[0] if session.webhook_secrets else None
    with SimulatedBuyer.running(
        session.base_url, secret=secret, api_key=key, host=host, port=port
    ) as buyer:
        shown = "" if key else f" BUYER_API_KEY={buyer.api_key}"
        click.echo(f"Playing the buyer at {buyer.url} (NEXT_PUBLIC_BUYER_DASHBOARD_URL){shown}")
        session.buyer = buyer
        code = _run("producer", session, options)
    sys.exit(code)


def _secrets(value: str | None) -> tuple[str, ...]:
    """The secrets of a setting, each one usable (a ``ConfigError`` naming the problem)."""
    found = tuple(split_secrets(value)) if value and value.strip() else ()
    for secret in found:
        secret_key(secret)
    return found


# ---------------------------------------------------------------------------------- running


def _run(party: str, session: VerifySession, options: RunOptions) -> int:
    """Run ``party``'s checks, print and write the reports; the exit code."""
    checks = select_checks(party, options.checks, options.skipped)
    known = [c.id for c in all_checks()]
    baseline = load_baseline(options.baseline, known) if options.baseline else None
    reporter = TerminalReporter(Console(), verbose=options.verbose)
    reporter.console.print(f"lotflow verify {party} {session.base_url}: {len(checks)} checks")
    card = asyncio.run(run_checks(session, checks, reporter.handle))
    if baseline is not None:
        card = card.with_results(baseline.apply(card.results))
    reporter.summary(card)
    _write(card, options)
    return card.exit_code(options.fail_under)


def _write(card: Scorecard, options: RunOptions) -> None:
    for path, write in (
        (options.junit, write_junit),
        (options.json_path, write_json),
        (options.html, write_html),
    ):
        if path is not None:
            write(card, path)
            click.echo(f"wrote {path}")
    if options.write_baseline is not None:
        count = write_baseline(options.write_baseline, card.results)
        click.echo(f"wrote {options.write_baseline} ({count} accepted failures)")
