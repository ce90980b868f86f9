"""The machine-readable result of a run, as one JSON document.

Shape (``format`` names its version)::

    {"format": "lotflow.result/1", "tool": {...}, "complete": true,
     "run": {"id", "startedAt", "parties", "scenarios", "totalSteps"},
     "ended": {"how": "finished" | "interrupted" | "errored", "at",
               "reason" (interrupted), "kind", "message", "setting" (errored)},
     "summary": {"passed", "failed", "steps_passed", "steps_failed", "steps_skipped",
                 "duration", "ok", "exitCode"},
     "scenarios": [{"name", "slug", "source", "description", "tags", "passed", "duration",
                    "steps": [{"id", "title", "kind", "actor", "line", "outcome", "duration",
                               "note", "failures": [...], "exchanges": [...],
                               "webhooks": [...]}],
                    "final": [{"portal", "entity", "id", "actor", "status", "reason",
                               "shown", "exchange"}],
                    "note"}]}

``final`` is what each portal showed of the scenario's lots, bids and contracts when read again
once the scenario ended (``status`` null and ``reason`` set when the read did not say); a
scenario's ``note`` what ending it undid (webhook copies the network held, discarded), a step's
``note`` what a step without a call did.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from lotflow import __version__
from lotflow.engine import events as ev

FORMAT = "lotflow.result/1"


class JsonReporter:
    """Collects results and writes the document to ``path`` on :meth:`close`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.document: dict[str, Any] = {
            "format": FORMAT,
            "tool": {"name": "lotflow", "version": __version__},
            "complete": False,
            "run": {},
            "ended": None,
            "summary": None,
            "scenarios": [],
        }
        self._started: dict[str, ev.ScenarioStarted] = {}

    def handle(self, event: ev.Event) -> None:
        """Record what the event adds to the document."""
        if isinstance(event, ev.RunStarted):
            self.document["run"] = _run(event)
        elif isinstance(event, ev.ScenarioStarted):
            self._started[event.slug] = event
        elif isinstance(event, ev.ScenarioFinished):
            self.document["scenarios"].append(_scenario(event, self._started.get(event.slug)))
        elif isinstance(event, ev.RunFinished | ev.RunInterrupted | ev.RunErrored):
            self.document["summary"] = _summary(event)
            self.document["ended"] = _ended(event)
            self.document["complete"] = event.complete

    def close(self) -> None:
        """Write the document (creating its folder)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.document, indent=2, ensure_ascii=False, default=str)
        self.path.write_text(text + "\n", encoding="utf-8")


def _run(event: ev.RunStarted) -> dict[str, Any]:
    return {
        "id": event.run_id,
        "startedAt": event.at,
        "parties": event.parties,
        "scenarios": list(event.scenarios),
        "totalSteps": event.total_steps,
    }


def _summary(event: ev.RunEnd) -> dict[str, Any]:
    return {**dataclasses.asdict(event.summary), "ok": event.ok, "exitCode": event.exit_code}


def _ended(event: ev.RunEnd) -> dict[str, Any]:
    if isinstance(event, ev.RunInterrupted):
        where = {"scenario": event.scenario, "step": event.step_id}
        return {"how": "interrupted", "at": event.at, "reason": event.reason, **where}
    if isinstance(event, ev.RunErrored):
        about = {"kind": event.kind, "message": event.message, "setting": event.setting}
        return {"how": "errored", "at": event.at, **about}
    return {"how": "finished", "at": event.at}


def _scenario(event: ev.ScenarioFinished, started: ev.ScenarioStarted | None) -> dict[str, Any]:
    return {
        "name": event.name,
        "slug": event.slug,
        "source": started.source if started else "",
        "description": started.description if started else "",
        "tags": list(started.tags) if started else [],
        "passed": event.passed,
        "duration": event.duration,
        "steps": [_step(step) for step in event.steps],
        "final": [_final(read) for read in event.final],
        "note": event.note,
    }


def _final(read: ev.FinalRead) -> dict[str, Any]:
    return {
        "portal": read.portal,
        "entity": read.entity,
        "id": read.entity_id,
        "actor": read.actor,
        "status": read.status,
        "reason": read.reason,
        "shown": read.shown,
        "exchange": dataclasses.asdict(read.exchange) if read.exchange is not None else None,
    }


def _step(step: ev.StepResult) -> dict[str, Any]:
    return {
        "id": step.step_id,
        "title": step.title,
        "kind": step.kind,
        "actor": step.actor,
        "line": step.line,
        "outcome": step.outcome,
        "duration": step.duration,
        "note": step.note,
        "failures": [dataclasses.asdict(f) for f in step.failures],
        "exchanges": [dataclasses.asdict(x) for x in step.exchanges],
        "webhooks": [dataclasses.asdict(w) for w in step.webhooks],
    }
