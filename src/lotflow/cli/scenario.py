"""``lotflow scenario``: run scenario files between any two running portals, validate, list."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from lotflow.cli.parties import env_file_option, party_options
from lotflow.cli.parties import producer_tokens as producer_tokens_of
from lotflow.cli.running import load_scenarios, report_folder, run_and_report
from lotflow.engine.loader import catalogue_files
from lotflow.engine.preflight import url_problem
from lotflow.engine.runner import Parties
from lotflow.engine.tap import WebhookTap
from lotflow.errors import ConfigError, LotflowError
from lotflow.interrupts import EXIT_INTERRUPTED
from lotflow.serving import ServerThread

FILES = click.argument("files", nargs=-1, metavar="[FILE|FOLDER|NAME]...")


@click.group()
def scenario() -> None:
    """Run, check and list scenario files (declarative lot → bid → contract stories)."""


@scenario.command("list")
def list_() -> None:
    """List the shipped scenario catalogue: the NAME to give ``scenario run`` and the title."""
    for item in load_scenarios(catalogue_files()):
        click.echo(f"{item.slug:<32} {item.name}")
    click.echo("\nRun one with: lotflow scenario run NAME ... (or give a file path)")


@scenario.command()
@FILES
def validate(files: tuple[str, ...]) -> None:
    """Check scenario files against the format and, statically, against the spec: operations,
    path parameters, ${variables} and the JSON pointers into responses (exit 2 naming file,
    line and key of each problem). A folder must hold at least one scenario file.
    """
    if not files:
        raise click.UsageError("Give at least one scenario file, folder or catalogue name.")
    problems = 0
    for path in scenario_paths(files):
        try:
            load_scenarios([path])
            click.echo(f"✓ {path}")
        except LotflowError as exc:
            problems += 1
            click.secho(f"✗ {exc}", fg="red", err=True)
    sys.exit(2 if problems else 0)


@scenario.command()
@FILES
@env_file_option
@party_options
@click.option(
    "--api-key",
    envvar="PRODUCER_API_KEY",
    required=True,
    help="The producer API key the buyer accepts (env PRODUCER_API_KEY).",
)
@click.option(
    "--webhook-secret",
    envvar="PRODUCER_DASHBOARD_WEBHOOK_SECRET",
    default="",
    help=(
        "The webhook secret the buyer signs with, when you know it: a webhook signed with it is "
        "sent to the producer first, to check the two portals share it (env "
        "PRODUCER_DASHBOARD_WEBHOOK_SECRET)."
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
    files: tuple[str, ...],
    buyer_url: str,
    producer_url: str,
    buyer_token: str,
    api_key: str,
    producer_tokens: tuple[str, ...],
    webhook_secret: str,
    tap_host: str,
    tap_port: int,
    out: Path | None,
    verbose: bool,
) -> None:
    """Run scenarios (files, folders or catalogue NAMEs; default: the whole catalogue) between
    two running portals.

    lotflow starts a webhook tap that forwards every delivery to --producer and records it: point
    the buyer's PRODUCER_DASHBOARD_WEBHOOK_URL at the tap URL it prints (use --tap-port to fix the
    port). Before the first step it checks the URLs, every credential on a harmless read, that
    every producer alias the files act as has a token and, with --webhook-secret, the secret;
    during the run it stops as soon as the buyer's webhooks demonstrably miss the tap or are
    refused. Exit 0 when all scenarios pass, 1 when one fails, 2 for a bad file, a missing
    option or a misconfigured portal (the message names the setting).
    """
    console = Console(highlight=False, soft_wrap=True)
    scenarios = load_scenarios(scenario_paths(files) if files else catalogue_files())
    tokens = producer_tokens_of(producer_tokens)
    _check_urls(buyer_url, producer_url)
    folder = report_folder(out)
    tap = WebhookTap(forward_to=producer_url)
    server = ServerThread(tap.app, host=tap_host, port=tap_port).start()
    try:
        console.print(
            f"Webhook tap on {server.url} → {producer_url}. The buyer must send webhooks to "
            f"{server.url}/api/webhooks/lots (its PRODUCER_DASHBOARD_WEBHOOK_URL)"
        )
        parties = Parties(
            buyer_url.rstrip("/"),
            producer_url.rstrip("/"),
            buyer_token,
            api_key,
            tokens,
            tap,
            tap_url=server.url,
        )
        ended = run_and_report(
            parties,
            scenarios,
            folder,
            console,
            verbose=verbose,
            webhook_secret=webhook_secret,
        )
    except KeyboardInterrupt:
        console.print("\n[yellow]Interrupted: the reports hold what ran.[/]")
        sys.exit(EXIT_INTERRUPTED)
    finally:
        server.stop()
    sys.exit(ended.exit_code)


def _check_urls(buyer_url: str, producer_url: str) -> None:
    """A ``ConfigError`` for a URL that cannot name a portal (no scheme, no host), first."""
    for option, url in (("--buyer", buyer_url), ("--producer", producer_url)):
        problem = url_problem(option, url)
        if problem is not None:
            raise ConfigError(str(problem))


def scenario_paths(items: tuple[str, ...]) -> list[Path]:
    """Files as given, folders' ``*.yaml`` files, and catalogue names (``01-happy-path``, as
    ``scenario list`` prints them) resolved to the shipped files; ConfigError for the rest."""
    catalogue = {path.stem: path for path in catalogue_files()}
    found: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            inside = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not inside:
                raise ConfigError(f"{item}: the folder holds no scenario files (*.yaml, *.yml)")
            found += inside
        elif path.exists():
            found.append(path)
        elif path.stem in catalogue and path.parent == Path("."):
            found.append(catalogue[path.stem])
        else:
            names = ", ".join(catalogue)
            raise ConfigError(
                f"{item}: no such file, folder or catalogue scenario (catalogue names: {names})"
            )
    return found
