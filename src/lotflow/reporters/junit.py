"""JUnit XML: one test suite per scenario, one test case per step."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from lotflow.engine import events as ev


class JUnitReporter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = ET.Element("testsuites", name="lotflow")

    def handle(self, event: ev.Event) -> None:
        if isinstance(event, ev.ScenarioFinished):
            self._suite(event)
        elif isinstance(event, ev.RunFinished):
            self.root.set(
                "tests", str(event.steps_passed + event.steps_failed + event.steps_skipped)
            )
            self.root.set("failures", str(event.steps_failed))
            self.root.set("skipped", str(event.steps_skipped))
            self.root.set("time", f"{event.duration:.3f}")

    def _suite(self, event: ev.ScenarioFinished) -> None:
        failed = sum(1 for s in event.steps if s.failures)
        skipped = sum(1 for s in event.steps if s.skipped)
        suite = ET.SubElement(
            self.root,
            "testsuite",
            name=event.name,
            tests=str(len(event.steps)),
            failures=str(failed),
            skipped=str(skipped),
            time=f"{event.duration:.3f}",
        )
        for step in event.steps:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{event.slug}",
                name=f"{step.step_id}: {step.title}",
                time=f"{step.duration:.3f}",
            )
            if step.skipped:
                ET.SubElement(case, "skipped", message="an earlier step of the scenario failed")
            for failure in step.failures:
                node = ET.SubElement(case, "failure", message=failure.message, type=failure.check)
                node.text = (
                    f"expected: {json.dumps(failure.expected, default=str)}\nobserved: "
                    f"{json.dumps(failure.observed, default=str)[:4000]}"
                )

    def close(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ET.ElementTree(self.root).write(self.path, encoding="utf-8", xml_declaration=True)
