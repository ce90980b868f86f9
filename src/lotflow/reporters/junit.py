"""JUnit XML for CI: one ``<testsuite>`` per scenario, one ``<testcase>`` per step.

A test case's ``classname`` is the scenario's name and its ``name`` is ``<step id>: <title>``.
The root's totals always count the cases written, so a run cut short still adds up; a run that
ended on an interruption or an error adds a suite ``lotflow run`` whose one case holds an
``<error>`` saying why. A failed step has one ``<failure>`` per failed check (``type`` is the
check, ``message`` the one-line reason, the text expected vs observed and the request/response);
a skipped step has ``<skipped>``. The calls and webhooks of every step are in ``<system-out>``;
a suite's own ``<system-out>`` says what each portal showed of the scenario's entities when read
again at its end (a report, never a test case).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from lotflow.engine import events as ev
from lotflow.reporters.ledger import end_words
from lotflow.reporters.wording import (
    SKIPPED_NOTE,
    call_line,
    ending_line,
    failure_details,
    webhook_line,
)

NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
DETAIL_LIMIT = 4000


def _xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold."""
    return NOT_XML.sub("?", text)


class JUnitReporter:
    """Collects results and writes the XML to ``path`` on :meth:`close`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.root = ET.Element("testsuites", name="lotflow", tests="0", failures="0", errors="0")
        self._sources: dict[str, str] = {}

    def handle(self, event: ev.Event) -> None:
        """Add a suite per finished scenario; totals when the run ends."""
        if isinstance(event, ev.ScenarioStarted):
            self._sources[event.slug] = event.source
        elif isinstance(event, ev.ScenarioFinished):
            self._suite(event)
        elif isinstance(event, ev.RunFinished):
            self.root.set("time", f"{event.summary.duration:.3f}")
        elif isinstance(event, ev.RunInterrupted | ev.RunErrored):
            self.root.set("time", f"{event.summary.duration:.3f}")
            self._stopped(event)

    def close(self) -> None:
        """Write the file (creating its folder)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ET.indent(self.root)
        ET.ElementTree(self.root).write(self.path, encoding="utf-8", xml_declaration=True)

    def _totals(self) -> None:
        for total in ("tests", "failures", "errors", "skipped"):
            count = sum(int(suite.get(total, "0")) for suite in self.root)
            self.root.set(total, str(count))

    def _stopped(self, event: ev.RunInterrupted | ev.RunErrored) -> None:
        suite = ET.SubElement(
            self.root, "testsuite", name="lotflow run", tests="1", failures="0", errors="1"
        )
        suite.set("skipped", "0")
        case = ET.SubElement(suite, "testcase", classname="lotflow run", name="the run ends")
        kind = "interrupted" if isinstance(event, ev.RunInterrupted) else event.kind
        ET.SubElement(case, "error", message=_xml_text(ending_line(event)), type=kind)
        self._totals()

    def _suite(self, scenario: ev.ScenarioFinished) -> None:
        suite = ET.SubElement(
            self.root,
            "testsuite",
            name=_xml_text(scenario.name),
            tests=str(len(scenario.steps)),
            failures=str(sum(1 for s in scenario.steps if s.outcome == "failed")),
            errors="0",
            skipped=str(sum(1 for s in scenario.steps if s.skipped)),
            time=f"{scenario.duration:.3f}",
        )
        for step in scenario.steps:
            self._case(suite, scenario, step)
        ending = "\n".join(filter(None, [scenario.note, _end_lines(scenario.final)]))
        if ending:
            ET.SubElement(suite, "system-out").text = _xml_text(ending)
        self._totals()

    def _case(self, suite: ET.Element, scenario: ev.ScenarioFinished, step: ev.StepResult) -> None:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=_xml_text(scenario.name),
            name=_xml_text(f"{step.step_id}: {step.title}"),
            time=f"{step.duration:.3f}",
            file=self._sources.get(scenario.slug, ""),
            line=str(step.line),
        )
        if step.skipped:
            ET.SubElement(case, "skipped", message=SKIPPED_NOTE)
            return
        for failure in step.failures:
            node = ET.SubElement(
                case, "failure", message=_xml_text(failure.message), type=failure.check
            )
            node.text = _xml_text(
                "\n".join(failure_details(failure, verbose=True, limit=DETAIL_LIMIT))
            )
        log = [step.note] if step.note else []
        log += [f"{x.purpose}: {x.actor} {call_line(x)}" for x in step.exchanges]
        log += [webhook_line(w) for w in step.webhooks]
        if log:
            ET.SubElement(case, "system-out").text = _xml_text("\n".join(log))


def _end_lines(final: tuple[ev.FinalRead, ...]) -> str:
    """``at the end, buyer lot 6750a1…: sold``, one line per entity read again."""
    return "\n".join(
        f"at the end, {read.portal} {read.entity} {read.entity_id}: {end_words(read)}"
        for read in final
    )
