"""JUnit XML: one ``<testsuite>`` per check, one ``<testcase>`` per subject.

A failure has ``<failure>`` (message: what the contract wanted; text: what was observed and the
exchanges); a subject that was not run is ``<skipped>`` with the reason and what to provide; a
failure the baseline accepts is ``<skipped type="accepted">`` with its evidence, so that CI
shows it without failing on it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from lotflow.verify.reports.text import result_text
from lotflow.verify.results import Outcome, SubjectResult
from lotflow.verify.scorecard import Scorecard

__all__ = ["write_junit"]

NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(text: str) -> str:
    return NOT_XML.sub("?", text)


def write_junit(card: Scorecard, path: Path) -> None:
    counts = card.counts()
    root = ET.Element(
        "testsuites",
        name=f"lotflow verify {card.target}",
        tests=str(counts["total"]),
        failures=str(counts["new_failures"]),
        skipped=str(counts["total"] - counts["passed"] - counts["new_failures"]),
        time=f"{card.seconds:.3f}",
    )
    for check_id, results in card.by_check().items():
        _suite(root, check_id, results)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _suite(root: ET.Element, check_id: str, results: list[SubjectResult]) -> None:
    failures = sum(1 for r in results if r.outcome is Outcome.FAILED and not r.accepted)
    suite = ET.SubElement(
        root, "testsuite", name=check_id, tests=str(len(results)), failures=str(failures)
    )
    for result in results:
        case = ET.SubElement(suite, "testcase", classname=check_id, name=_text(result.subject))
        if result.outcome is Outcome.FAILED:
            evidence = result.evidence
            message = _text(evidence.expected if evidence else "failed")
            attributes = {"message": message}
            if result.accepted:
                attributes["type"] = "accepted"
            element = ET.SubElement(case, "skipped" if result.accepted else "failure", attributes)
            element.text = _text(result_text(result))
        elif result.outcome is Outcome.NOT_RUN:
            ET.SubElement(case, "skipped", message=_text(f"not run: {result.reason}")).text = _text(
                result_text(result)
            )
