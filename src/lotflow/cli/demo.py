"""``lotflow demo``: the whole story between the two reference portals, narrated."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from lotflow.cli.running import load_scenarios, report_folder, run_and_report
from lotflow.engine.loader import catalogue_files
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
@click.option("-v", "--verbose", is_flag=True, help="Show what was observed when a check fails.")
def demo(out: Path | None, scenario_files: tuple[Path, ...], verbose: bool) -> None:
    """Start both reference portals and play the lot → bid → counter → contract story.

    The buyer and producer portals start on an embedded SQLite database in a temporary folder, on
    free ports, with freshly generated keys and secrets (shown on screen). The scenario catalogue
    runs between them with narrated output; JUnit XML, a JSON result and a story report (Markdown
    and HTML, with a sequence diagram per scenario) are written to --out. Everything is shut down
    at the end, also on Ctrl-C. Exit 0 when every scenario passed, 1 otherwise, 2 on a bad file.
    """
    console = Console(highlight=False, soft_wrap=True)
    scenarios = load_scenarios(list(scenario_files) or catalogue_files())
    out = report_folder(out)
    with tempfile.TemporaryDirectory(prefix="lotflow-demo-") as workdir:
        stack = ReferenceStack(Path(workdir))
        try:
            console.print(
                "Starting the reference buyer and producer portals (embedded SQLite, free ports)…"
            )
            stack.start()
            _show_parties(console, stack)
            ended = run_and_report(stack.parties(), scenarios, out, console, verbose=verbose)
        except KeyboardInterrupt:
            console.print("\n[yellow]Interrupted: shutting the portals down.[/]")
            sys.exit(130)
        finally:
            stack.stop()
    sys.exit(ended.exit_code)


def _show_parties(console: Console, stack: ReferenceStack) -> None:
    table = Table(
        title="The demo's parties (generated for this run only)",
        title_justify="left",
        show_header=False,
    )
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row("Buyer Portal", stack.buyer_url)
    table.add_row("Producer Portal", stack.producer_url)
    table.add_row("Webhook tap (buyer → tap → producer)", stack.tap_url)
    for name, value in stack.credentials.shown().items():
        table.add_row(name, value)
    console.print(table)
