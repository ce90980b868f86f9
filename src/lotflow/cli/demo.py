"""``lotflow demo``: the whole story between the two reference portals, narrated."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click
from rich.console import Console

from lotflow.cli.portals import write_env_file
from lotflow.cli.running import load_scenarios, report_folder, run_and_report
from lotflow.engine.loader import catalogue_files
from lotflow.interrupts import EXIT_INTERRUPTED
from lotflow.stack import ReferenceStack


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the reports (default: ./lotflow-report-<time>).",
)
@click.option(
    "--scenario",
    "scenario_files",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Run these scenario files instead of the shipped catalogue (repeatable).",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Engineer detail: operation ids, timings, webhook attempts, URLs, request excerpts.",
)
def demo(out: Path | None, scenario_files: tuple[Path, ...], verbose: bool) -> None:
    """Start both reference portals and play the lot → bid → counter → contract story.

    The buyer and producer portals start on an embedded SQLite database in a temporary folder, on
    free ports, with freshly generated keys and secrets (written to credentials.env in --out).
    The scenario catalogue runs between them, told as a story (--verbose adds operation ids,
    timings, attempts and URLs); JUnit XML, a JSON result and a story report (Markdown and
    HTML, with a sequence diagram per scenario) are written to --out. Everything is shut down
    at the end, also on Ctrl-C. Exit 0 when every scenario passed, 1 otherwise, 2 on a bad file.
    """
    console = Console(highlight=False, soft_wrap=True)
    scenarios = load_scenarios(list(scenario_files) or catalogue_files())
    out = report_folder(out)
    console.print(
        "[bold]lotflow demo[/]: a Buyer Portal posts lots, a Producer Portal bids, the buyer "
        "accepts, rejects or counters, and an accepted bid becomes a contract. Both portals run "
        "here (the reference implementations, embedded SQLite); lotflow checks every message "
        "between them and what each side shows after it."
    )
    with tempfile.TemporaryDirectory(prefix="lotflow-demo-") as workdir:
        stack = ReferenceStack(Path(workdir))
        try:
            stack.start()
            _show_parties(console, stack, out, verbose=verbose)
            ended = run_and_report(stack.parties(), scenarios, out, console, verbose=verbose)
        except KeyboardInterrupt:
            console.print("\n[yellow]Interrupted: shutting the portals down.[/]")
            sys.exit(EXIT_INTERRUPTED)
        finally:
            stack.stop()
    sys.exit(ended.exit_code)


def _show_parties(console: Console, stack: ReferenceStack, out: Path, *, verbose: bool) -> None:
    """One line saying where the credentials are (a file: nothing to copy off the screen)."""
    out.mkdir(parents=True, exist_ok=True)
    credentials = out / "credentials.env"
    write_env_file(credentials, stack.pair_env(), CREDENTIALS_HEADING)
    if verbose:
        console.print(f"Buyer Portal {stack.buyer_url} · Producer Portal {stack.producer_url}")
        console.print(f"Webhook tap (buyer → tap → producer) {stack.tap_url}")
    console.print(f"Keys, secrets and operator tokens of this run: {credentials}")


CREDENTIALS_HEADING = """Made by `lotflow demo` for one run only (its portals stop when it ends).
Producer operator tokens are in LOTFLOW_PRODUCER_TOKENS, by the scenarios' aliases."""
