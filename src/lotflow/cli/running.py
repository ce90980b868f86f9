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
) -> ev.RunFinished:
    """Run ``scenarios``; narrate on ``console``; write JUnit, JSON and the story under ``out``."""
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
    finished: ev.RunFinished | None = None
    try:
        for event in runner.run(scenarios):
            for reporter in reporters:
                reporter.handle(event)
            if isinstance(event, ev.RunFinished):
                finished = event
    finally:
        runner.close()
        for reporter in reporters:
            reporter.close()
    assert finished is not None
    return finished
