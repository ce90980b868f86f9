"""Running scenarios and writing every report: shared by ``lotflow demo`` and ``lotflow scenario
run``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import httpx
from rich.console import Console

from lotflow.clock import Clock, SystemClock
from lotflow.engine import events as ev
from lotflow.engine.loader import load_catalogue
from lotflow.engine.model import Scenario
from lotflow.engine.preflight import Preflight
from lotflow.engine.runner import OperationRef, Parties, Runner, operation_index
from lotflow.engine.static import spec_facts
from lotflow.errors import ConfigError
from lotflow.interrupts import stopped_by
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
    """Load and check scenario files, statically against the spec too."""
    specs = {p: load_portal_spec(p) for p in ("buyer", "producer")}
    return load_catalogue(paths, known_operations(), spec_facts(specs))


def default_report_dir(clock: Clock | None = None) -> Path:
    """``./lotflow-report-<local date and time>``, the time read from ``clock``."""
    now = (clock or SystemClock()).now().astimezone()
    return Path.cwd() / f"lotflow-report-{now:%Y%m%d-%H%M%S}"


def report_folder(out: Path | None, clock: Clock | None = None) -> Path:
    """The report folder, checked now (not created) so that a bad ``--out`` stops the command
    before anything starts: no part of it may be a file, and the part that exists must be a
    writable folder."""
    folder = (out or default_report_dir(clock)).resolve()
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if existing.is_file():
        reason = f"{existing} is a file"
    elif not os.access(existing, os.W_OK | os.X_OK):
        reason = f"{existing} is not writable"
    else:
        return folder
    raise ConfigError(
        f"--out {out or folder}: cannot write the reports there ({reason}); give a folder path"
    )


def checked_parties(
    parties: Parties, scenarios: Sequence[Scenario], *, webhook_secret: str = ""
) -> Preflight:
    """Check the parties before the first step; ConfigError (exit 2) listing what to fix."""
    client = httpx.Client(timeout=10)
    specs = {p: load_portal_spec(p) for p in ("buyer", "producer")}
    preflight = Preflight(
        parties, operations(), specs, client, SystemClock(), webhook_secret=webhook_secret
    )
    problems = preflight.problems(scenarios)
    if problems:
        client.close()
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise ConfigError(f"the parties are not set up to run scenarios; fix:\n{lines}")
    return preflight


def run_and_report(
    parties: Parties,
    scenarios: Sequence[Scenario],
    out: Path,
    console: Console,
    *,
    verbose: bool = False,
    webhook_secret: str = "",
) -> ev.RunEnd:
    """Check the parties (exit 2 on a configuration problem), run ``scenarios``, narrate on
    ``console``, write JUnit, JSON and the story under ``out`` and say where they went.

    Returns the event that ended the run (its ``exit_code`` is the CLI's). On Ctrl-C the
    reporters still get a RunInterrupted and write what they have; the interrupt goes on.
    """
    preflight = checked_parties(parties, scenarios, webhook_secret=webhook_secret)
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
        watch=lambda seen, expired: preflight.watch_webhooks(parties.tap_url, seen, expired),
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
            dispatch(runner.interrupted(f"interrupted ({stopped_by()})"))
        raise
    finally:
        runner.close()
        preflight.client.close()
        for reporter in reporters:
            reporter.close()
        console.print(f"Reports: {out} (story.html, story.md, junit.xml, result.json)")
    return ended[0]
