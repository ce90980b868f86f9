"""Each reporter turns the same event stream into its own format."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console

from lotflow.engine import events as ev
from lotflow.reporters.jsonreport import JsonReporter
from lotflow.reporters.junit import JUnitReporter
from lotflow.reporters.story import StoryReporter, sequence_diagram
from lotflow.reporters.terminal import TerminalReporter

CALL = ev.Exchange(
    "buyer",
    "decideBid",
    "PUT",
    "http://b/api/bids/1",
    {"status": "accepted"},
    200,
    {"bid": {}},
    3.0,
)
HOOK = ev.WebhookSeen("bid.accepted", "msg_1", "/api/webhooks/bids", 2, 200, True)
PASSED = ev.StepResult(
    "Happy path",
    "01-happy",
    "accept",
    "The buyer accepts",
    "buyer",
    "call",
    0.1,
    (),
    (CALL,),
    (HOOK,),
)
FAILED = ev.StepResult(
    "Happy path",
    "01-happy",
    "check",
    "Both agree",
    "buyer",
    "call",
    0.2,
    (
        ev.Failure(
            "agree",
            "the bid disagrees: buyer says 'accepted', producer says 'submitted'",
            "won",
            "submitted",
        ),
    ),
    (CALL,),
)
SKIPPED = ev.StepResult(
    "Happy path", "01-happy", "later", "Later step", "producer", "skipped", 0.0, skipped=True
)
STREAM: list[ev.Event] = [
    ev.RunStarted(("Happy path",), {"buyer": "http://b", "producer": "http://p"}, 3),
    ev.ScenarioStarted("Happy path", "01-happy", "A lot, a bid, a contract.", 1, 1),
    ev.StepStarted("Happy path", "accept", "The buyer accepts"),
    ev.StepPassed(PASSED),
    ev.StepFailed(FAILED),
    ev.StepSkipped(SKIPPED),
    ev.ScenarioFinished("Happy path", "01-happy", False, 0.3, (PASSED, FAILED, SKIPPED)),
    ev.RunFinished(0, 1, 1, 1, 1, 0.3),
]


def feed(reporter: object) -> None:
    for event in STREAM:
        reporter.handle(event)  # type: ignore[attr-defined]
    reporter.close()  # type: ignore[attr-defined]


def test_junit_has_one_case_per_step_with_failure_and_skip(tmp_path: Path) -> None:
    feed(JUnitReporter(tmp_path / "junit.xml"))
    root = ET.parse(tmp_path / "junit.xml").getroot()  # noqa: S314 - our own output
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == [
        "accept: The buyer accepts",
        "check: Both agree",
        "later: Later step",
    ]
    assert cases[1].find("failure").get("type") == "agree"  # type: ignore[union-attr]
    assert cases[2].find("skipped") is not None
    assert root.get("failures") == "1"
    assert root.get("tests") == "3"


def test_json_result_holds_outcomes_exchanges_and_webhooks(tmp_path: Path) -> None:
    feed(JsonReporter(tmp_path / "result.json"))
    document = json.loads((tmp_path / "result.json").read_text())
    steps = document["scenarios"][0]["steps"]
    assert [s["outcome"] for s in steps] == ["passed", "failed", "skipped"]
    assert steps[0]["webhooks"][0]["attempt"] == 2
    assert steps[1]["failures"][0]["expected"] == "won"
    assert document["summary"]["ok"] is False


def test_story_draws_calls_and_webhooks_as_a_sequence_diagram(tmp_path: Path) -> None:
    feed(StoryReporter(tmp_path))
    markdown = (tmp_path / "story.md").read_text()
    page = (tmp_path / "story.html").read_text()
    assert "B->>BP: decideBid" in markdown
    assert "BP->>PP: bid.accepted (webhook, attempt 2)" in markdown
    assert "```mermaid" in markdown
    assert "FAILED" in markdown
    assert "<script" not in page
    assert "http" not in page.split("<body>")[1].split("</pre>")[0].replace("http://b", "")
    assert "the bid disagrees" in page


def test_the_sequence_diagram_shows_a_producer_call_to_the_buyer_api() -> None:
    call = ev.Exchange("buyer", "submitBid", "POST", "http://b/api/bids", {}, 201, {}, 1.0)
    step = ev.StepResult("s", "s", "bid", "Bid", "producer", "call", 0.0, (), (call,))
    text = sequence_diagram(ev.ScenarioFinished("s", "s", True, 0.0, (step,)))
    assert "PP->>BP: submitBid" in text


def test_terminal_narrates_steps_webhooks_failures_and_the_summary() -> None:
    out = io.StringIO()
    feed(TerminalReporter(Console(file=out, width=200, color_system=None)))
    text = out.getvalue()
    assert "✓ The buyer accepts — buyer" in text
    assert "↳ producer received bid.accepted (attempt 2, answered 200)" in text
    assert "✗ Both agree" in text
    assert "agree: the bid disagrees" in text
    assert "skipped: an earlier step failed" in text
    assert "0 passed, 1 failed" in text
    assert "  3/3" in text  # progress
