"""Running scenarios and writing every report: shared by ``lotflow demo`` and ``lotflow scenario
run``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from lotflow.clock import Clock, SystemClock
from lotflow.engine import events as ev
from lotflow.engine.loader import load_catalogue
from lotflow.engine.model import Scenario
from lotflow.engine.runner import OperationRef, Parties, Runner, operation_index
from lotflow.openapi import load_portal_spec
from lotflow.reporters import Reporter
from lotflow.reporters.jsonreport import JsonReporter
from lotflow.reporters.junit import JUnitReporter
from lotflow.reporters.story import StoryReporter
from lotflow.reporters.terminal import TerminalReporter
from lotflow.workflow import load_workflow


def known_operations() -> dict[str, str]:
    return {op: ref.portal for op, ref in operations().items()}


def operations() -> dict[str, OperationRef]:
    """Every operation of both portals: where and how the runner calls it."""
    return operation_index({p: load_portal_spec(p) for p in ("buyer", "producer")})


def load_scenarios(paths: Sequence[Path]) -> list[Scenario]:
    return load_catalogue(paths, known_operations())


def default_report_dir(clock: Clock | None = None) -> Path:
    """``./lotflow-report-<local date and time>``, the time read from ``clock``."""
    now = (clock or SystemClock()).now().astimezone()
    return Path.cwd() / f"lotflow-report-{now:%Y%m%d-%H%M%S}"


def run_and_report(
    parties: Parties,
    scenarios: Sequence[Scenario],
    out: Path,
    console: Console,
    *,
    verbose: bool = False,
) -> ev.RunEnd:
    """Run ``scenarios``; narrate on ``console``; write JUnit, JSON and the story under ``out``.

    Returns the event that ended the run (its ``exit_code`` is the CLI's). On Ctrl-C the
    reporters still get a RunInterrupted and write what they have; the interrupt goes on.
    """
    reporters: list[Reporter] = [
        TerminalReporter(console, verbose=verbose),
        JUnitReporter(out / "junit.xml"),
        JsonReporter(out / "result.json"),
        StoryReporter(out),
    ]
    runner = Runner(
        parties,
        operations(),
        load_workflow().mapping,
    )
    ended: list[ev.RunEnd] = []

    def dispatch(event: ev.Event) -> None:
        for reporter in reporters:
            reporter.handle(event)
        if isinstance(event, ev.RunFinished | ev.RunInterrupted | ev.RunErrored):
            ended.append(event)

    try:
        for event in runner.run(scenarios):
            dispatch(event)
    except KeyboardInterrupt:
        if not ended:  # the interrupt came while a reporter worked, outside the runner
            dispatch(runner.interrupted("interrupted (Ctrl-C)"))
        raise
    finally:
        runner.close()
        for reporter in reporters:
            reporter.close()
    return ended[0]
