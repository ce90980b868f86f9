"""``lotflow scenario``: run scenario files between any two running portals, validate, list."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import httpx
from rich.console import Console

from lotflow.cli.running import default_report_dir, load_scenarios, run_and_report
from lotflow.engine.loader import catalogue_files
from lotflow.engine.runner import Parties
from lotflow.engine.tap import WebhookTap
from lotflow.errors import ConfigError, LotflowError
from lotflow.serving import ServerThread

FILES = click.argument("files", nargs=-1, type=click.Path(exists=True, path_type=Path))


@click.group()
def scenario() -> None:
    """Run, check and list scenario files (declarative lot → bid → contract stories)."""


@scenario.command("list")
def list_() -> None:
    """List the shipped scenario catalogue."""
    for item in load_scenarios(catalogue_files()):
        click.echo(f"{item.path.name:<40} {item.name}")


@scenario.command()
@FILES
def validate(files: tuple[Path, ...]) -> None:
    """Check scenario files against the format (exit 2 naming file, line and key on the first
    error)."""
    if not files:
        raise click.UsageError("Give at least one scenario file.")
    problems = 0
    for path in files:
        try:
            load_scenarios([path])
            click.echo(f"✓ {path}")
        except LotflowError as exc:
            problems += 1
            click.secho(f"✗ {exc}", fg="red", err=True)
    sys.exit(2 if problems else 0)


@scenario.command()
@FILES
@click.option(
    "--buyer",
    "buyer_url",
    envvar="LOTFLOW_BUYER_URL",
    required=True,
    help="Base URL of the buyer portal (env LOTFLOW_BUYER_URL).",
)
@click.option(
    "--producer",
    "producer_url",
    envvar="LOTFLOW_PRODUCER_URL",
    required=True,
    help="Base URL of the producer portal (env LOTFLOW_PRODUCER_URL).",
)
@click.option(
    "--buyer-token",
    envvar="LOTFLOW_BUYER_TOKEN",
    required=True,
    help="A buyer operator token (env LOTFLOW_BUYER_TOKEN).",
)
@click.option(
    "--api-key",
    envvar="PRODUCER_API_KEY",
    required=True,
    help="The producer API key the buyer accepts (env PRODUCER_API_KEY).",
)
@click.option(
    "--producer-token",
    "producer_tokens",
    multiple=True,
    metavar="ALIAS=TOKEN",
    help=(
        "A producer operator token per alias used by the scenarios, e.g. alpha=... "
        "(repeatable; env LOTFLOW_PRODUCER_TOKENS, comma-separated)."
    ),
)
@click.option(
    "--tap-host", default="127.0.0.1", show_default=True, help="Interface for the webhook tap."
)
@click.option(
    "--tap-port",
    default=0,
    type=click.IntRange(0, 65535),
    help="Port for the webhook tap (0: a free one).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the reports (default: ./lotflow-report-<time>).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show what was observed when a check fails.")
def run(
    files: tuple[Path, ...],
    buyer_url: str,
    producer_url: str,
    buyer_token: str,
    api_key: str,
    producer_tokens: tuple[str, ...],
    tap_host: str,
    tap_port: int,
    out: Path | None,
    verbose: bool,
) -> None:
    """Run scenario FILES (default: the catalogue) between two running portals.

    lotflow starts a webhook tap that forwards every delivery to --producer and records it: point
    the buyer's PRODUCER_DASHBOARD_WEBHOOK_URL at the tap URL it prints (use --tap-port to fix the
    port). Exit 0 when all scenarios pass, 1 when one fails, 2 for a bad file, a missing option or
    an unreachable portal.
    """
    console = Console(highlight=False)
    scenarios = load_scenarios(list(files) or catalogue_files())
    tokens = _tokens(producer_tokens)
    for name, url in (("buyer", buyer_url), ("producer", producer_url)):
        _require_reachable(name, url)
    tap = WebhookTap(forward_to=producer_url)
    server = ServerThread(tap.app, host=tap_host, port=tap_port).start()
    try:
        console.print(
            f"Webhook tap on {server.url} → {producer_url}. The buyer must send webhooks to "
            f"{server.url}/api/webhooks/lots"
        )
        parties = Parties(
            buyer_url.rstrip("/"), producer_url.rstrip("/"), buyer_token, api_key, tokens, tap
        )
        summary = run_and_report(
            parties, scenarios, (out or default_report_dir()).resolve(), console, verbose=verbose
        )
    finally:
        server.stop()
    sys.exit(0 if summary.ok else 1)


def _tokens(values: tuple[str, ...]) -> dict[str, str]:
    import os

    raw = list(values) or [v for v in os.environ.get("LOTFLOW_PRODUCER_TOKENS", "").split(",") if v]
    tokens = {}
    for item in raw:
        alias, sep, token = item.partition("=")
        if not sep or not alias or not token:
            raise ConfigError(f"--producer-token {item!r} is not ALIAS=TOKEN (e.g. alpha=s3cr3t).")
        tokens[alias.strip()] = token.strip()
    if not tokens:
        raise ConfigError(
            "Give at least one --producer-token ALIAS=TOKEN (scenarios act as producer alpha by "
            "default)."
        )
    return tokens


def _require_reachable(name: str, url: str) -> None:
    try:
        httpx.get(url.rstrip("/") + "/openapi.json", timeout=5)
    except httpx.HTTPError as exc:
        raise ConfigError(
            f"Cannot reach the {name} portal at {url}: {type(exc).__name__}: {exc}. Is it "
            f"running, and is the URL right?"
        ) from None
