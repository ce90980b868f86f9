"""JUnit XML: one test case per step, failures with their message and detail."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from lotflow.engine import events as ev
from lotflow.reporters.junit import JUnitReporter
from tests.reporters.stream import HAPPY, OUTAGE, feed, finished, step


def report(tmp_path: Path) -> ET.Element:
    path = tmp_path / "out" / "junit.xml"
    feed(JUnitReporter(path))
    return ET.parse(path).getroot()  # noqa: S314 - the file this test just wrote


def test_every_step_is_a_test_case_in_its_scenario_s_suite(tmp_path: Path) -> None:
    root = report(tmp_path)
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("8", "1", "1")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [HAPPY, OUTAGE]
    assert [(s.get("tests"), s.get("failures"), s.get("skipped")) for s in suites] == [
        ("4", "1", "1"),
        ("4", "0", "0"),
    ]
    cases = root.findall(".//testcase")
    assert len(cases) == 8
    assert {c.get("classname") for c in cases[:4]} == {HAPPY}
    assert cases[0].get("name") == "create-lot: The buyer drafts a lot at $6.50/gal"
    assert (cases[2].get("file"), cases[2].get("line")) == ("scenarios/02-counter.yaml", "33")


def test_a_failed_step_has_a_failure_with_message_type_and_detail(tmp_path: Path) -> None:
    root = report(tmp_path)
    failures = root.findall(".//failure")
    assert len(failures) == 1
    (failure,) = failures
    assert failure.get("message") == "counterBid answered 409, expected 201"
    assert failure.get("type") == "status"
    detail = failure.text or ""
    assert "expected: 201" in detail
    assert 'observed: {"code": "illegal_transition"}' in detail
    assert "request: POST http://buyer.test/api/bids/b1/counter" in detail
    assert "response: 409" in detail


def test_a_skipped_step_is_marked_skipped_and_calls_go_to_system_out(tmp_path: Path) -> None:
    root = report(tmp_path)
    cases = root.findall(".//testcase")
    assert cases[3].find("skipped") is not None
    out = cases[1].findtext("system-out") or ""
    assert "call: buyer publishLot → 200" in out
    assert "state: producer getMarketplaceLot → 200" in out
    assert "→ producer received lot.published (attempt 1)" in out


def test_text_xml_cannot_hold_is_replaced_not_written_broken(tmp_path: Path) -> None:
    bad = step(
        "S",
        "s",
        "x",
        "Bell \x07 in a title",
        "failed",
        failures=(ev.Failure("body", "nul \x00 here"),),
    )
    path = tmp_path / "junit.xml"
    feed(JUnitReporter(path), [finished("S", "s", False, (bad,))])
    root = ET.parse(path).getroot()  # noqa: S314 - the file this test just wrote
    case = root.find(".//testcase")
    assert case is not None
    assert case.get("name") == "x: Bell ? in a title"


def test_each_suite_says_where_its_entities_ended_outside_any_test_case(tmp_path: Path) -> None:
    root = report(tmp_path)
    first, second = root.findall("testsuite")
    assert first.findtext("system-out") == "at the end, producer lot l1: open"
    assert second.findtext("system-out") == (
        "at the end, buyer lot l7: unknown (getLot answered 404: Lot l7 not found)\n"
        "at the end, buyer contract c1: draft\n"
        "at the end, producer bid pb1: won"
    )
    assert root.get("tests") == "8"  # a report, not a test case
