"""``lotflow spec``: check the contract and draw its state machines."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from lotflow.cli.diagrams import machines_html, state_mermaid, state_svg
from lotflow.speccheck import SpecReport, check_spec

WIDE = 160
SPEC_DIR = click.option(
    "--spec-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A spec folder holding openapi/ and workflow.yaml (default: the shipped contract).",
)


@click.group()
def spec() -> None:
    """Check the contract (OpenAPI 3.1 documents and workflow state machines) and draw it."""


@spec.command()
@SPEC_DIR
def check(spec_dir: Path | None) -> None:
    """Validate the spec and print a summary: operations, webhook events, states.

    Checks: both documents are valid OpenAPI 3.1, every $ref resolves, every example matches its
    schema, operationIds are unique, errors are problem+json, links name real operations, and the
    state machines agree with the documents. Exit 0 when all hold, 1 when a check fails, 2 when a
    spec file cannot be read or parsed.
    """
    report = check_spec(spec_dir)
    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:  # a pipe or a CI log: never cut a path to fit 80 columns
        console = Console(highlight=False, soft_wrap=True, width=max(console.width, WIDE))
    _print_summary(console, report)
    if report.ok:
        console.print(f"[green]✓ the contract is consistent[/] ({report.root})")
        return
    console.print(f"[red]✗ {len(report.problems)} problem(s):[/]")
    for problem in report.problems:
        console.print(f"  - {problem}", markup=False)
    sys.exit(1)


@spec.command()
@click.argument("machines", nargs=-1)
@click.option(
    "--markdown",
    is_flag=True,
    help="Wrap each diagram in a Markdown section with a ```mermaid fence.",
)
@click.option("--svg", "as_svg", is_flag=True, help="Draw ONE machine as an SVG picture.")
@click.option(
    "--html",
    "as_html",
    is_flag=True,
    help="One self-contained HTML page (no script) with the machines drawn as SVG.",
)
@SPEC_DIR
def diagram(
    machines: tuple[str, ...], markdown: bool, as_svg: bool, as_html: bool, spec_dir: Path | None
) -> None:
    """Print the workflow state machines: Mermaid state diagrams, or pictures (--svg, --html;
    redirect them to a file). Each transition is labelled with its outcome (the workflow's
    `when`), then its cause and the events it emits.

    MACHINES are names such as buyer.bid or producer.contract (default: all of them).
    """
    workflow = check_spec(spec_dir).workflow
    chosen = [workflow.machine(name) for name in machines or tuple(workflow.machines)]
    if as_svg and len(chosen) != 1:
        raise click.UsageError("--svg draws one machine: name it (e.g. buyer.bid), or use --html.")
    if as_svg or as_html:
        click.echo(state_svg(chosen[0]) if as_svg else machines_html(chosen))
        return
    for machine in chosen:
        text = state_mermaid(machine)
        if markdown:
            text = f"## {machine.name}\n\n{machine.description}\n\n```mermaid\n{text}\n```\n"
        click.echo(text + "\n")


def _print_summary(console: Console, report: SpecReport) -> None:
    for summary in report.portals.values():
        table = Table(title=f"{summary.title} v{summary.version}", title_justify="left")
        ops = summary.operations.values()
        table.add_column(
            "operationId", no_wrap=True, min_width=max(len(o.operation_id) for o in ops)
        )
        table.add_column("method", no_wrap=True)
        table.add_column("path", no_wrap=True, min_width=max(len(o.path) for o in ops))
        table.add_column("tags")
        for op in summary.operations.values():
            table.add_row(op.operation_id, op.method.upper(), op.path, ", ".join(op.tags))
        console.print(table)
        if summary.events:
            events = Table(title="Webhook events sent", title_justify="left")
            events.add_column("event")
            events.add_column("delivered to")
            for name, item in _event_paths(summary.document).items():
                events.add_row(name, item)
            console.print(events)
    machines = Table(title="Workflow state machines", title_justify="left")
    for column in ("machine", "states", "terminal", "transitions"):
        machines.add_column(column)
    for m in report.workflow.machines.values():
        machines.add_row(
            m.name, ", ".join(m.states), ", ".join(sorted(m.terminal)), str(len(m.transitions))
        )
    console.print(machines)


def _event_paths(document: dict[str, object]) -> dict[str, str]:
    hooks = document.get("webhooks") or {}
    assert isinstance(hooks, dict)
    return {
        name: str(item.get("post", {}).get("x-lotflow-delivery-path", "?"))
        for name, item in hooks.items()
    }
