"""The machine-readable result of a run, as one JSON document."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from lotflow import __version__
from lotflow.engine import events as ev


class JsonReporter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.document: dict[str, Any] = {"tool": "lotflow", "version": __version__, "scenarios": []}

    def handle(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            self.document["parties"] = event.parties
        elif isinstance(event, ev.ScenarioFinished):
            self.document["scenarios"].append(
                {
                    "name": event.name,
                    "slug": event.slug,
                    "passed": event.passed,
                    "duration": event.duration,
                    "steps": [_step(s) for s in event.steps],
                }
            )
        elif isinstance(event, ev.RunFinished):
            self.document["summary"] = {**dataclasses.asdict(event), "ok": event.ok}

    def close(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.document, indent=2, default=str), encoding="utf-8")


def _step(step: ev.StepResult) -> dict[str, Any]:
    outcome = "skipped" if step.skipped else "passed" if step.passed else "failed"
    return {
        "id": step.step_id,
        "title": step.title,
        "actor": step.actor,
        "kind": step.kind,
        "outcome": outcome,
        "duration": step.duration,
        "failures": [dataclasses.asdict(f) for f in step.failures],
        "exchanges": [dataclasses.asdict(x) for x in step.exchanges],
        "webhooks": [
            {k: v for k, v in dataclasses.asdict(w).items() if k != "body"} for w in step.webhooks
        ],
    }
