"""A run cut short still leaves reports that add up and say why it stopped."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console

from lotflow.engine import events as ev
from lotflow.reporters.jsonreport import JsonReporter
from lotflow.reporters.junit import JUnitReporter
from lotflow.reporters.story import StoryReporter
from lotflow.reporters.terminal import TerminalReporter
from tests.reporters.stream import RUN, STREAM, feed

PARTIAL = STREAM[:-1]  # everything up to the end of the second scenario
SUMMARY = ev.RunSummary(1, 1, 6, 1, 1, 2.0)
INTERRUPTED = ev.RunInterrupted(
    **RUN, summary=SUMMARY, reason="interrupted (Ctrl-C)", scenario="S", step_id="accept"
)
ERRORED = ev.RunErrored(
    **RUN,
    summary=SUMMARY,
    kind="configuration",
    message="no webhook reached the tap",
    setting="PRODUCER_DASHBOARD_WEBHOOK_URL",
)


def test_a_partial_junit_file_counts_the_cases_it_holds_and_has_an_error_saying_why(
    tmp_path: Path,
) -> None:
    path = tmp_path / "junit.xml"
    feed(JUnitReporter(path), [*PARTIAL[:12], INTERRUPTED])  # the first scenario only
    root = ET.parse(path).getroot()  # noqa: S314 - the file this test just wrote
    cases = root.findall(".//testcase")
    assert root.get("tests") == str(len(cases)) == "5"
    assert (root.get("failures"), root.get("errors"), root.get("skipped")) == ("1", "1", "1")
    (error,) = root.iter("error")
    assert error.get("type") == "interrupted"
    assert "Run interrupted (Ctrl-C) during 'S', step 'accept'" in (error.get("message") or "")


def test_the_json_result_says_how_the_run_ended(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    feed(JsonReporter(path), [*PARTIAL, ERRORED])
    document = json.loads(path.read_text())
    assert document["complete"] is False
    assert document["ended"]["how"] == "errored"
    assert document["ended"]["setting"] == "PRODUCER_DASHBOARD_WEBHOOK_URL"
    assert document["summary"]["exitCode"] == 2


def test_the_story_and_terminal_say_the_run_was_stopped_and_by_what(tmp_path: Path) -> None:
    feed(StoryReporter(tmp_path), [*PARTIAL, ERRORED])
    assert (
        "Run stopped by a configuration error: no webhook reached the tap"
        in (tmp_path / "story.md").read_text()
    )
    out = io.StringIO()
    feed(TerminalReporter(Console(file=out, width=200)), [*PARTIAL, INTERRUPTED])
    assert "Run interrupted (Ctrl-C) during 'S', step 'accept'; before that: 1 passed" in (
        out.getvalue()
    )
