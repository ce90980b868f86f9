"""The framework without a portal: credentials, registry, scorecard, baseline and reports."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from lotflow.errors import ConfigError
from lotflow.verify.baseline import Acceptance, Baseline, load_baseline, write_baseline
from lotflow.verify.registry import Check, Direction, all_checks, get_check, select_checks
from lotflow.verify.reports import TerminalReporter, write_html, write_json, write_junit
from lotflow.verify.reports.html import render_html
from lotflow.verify.results import (
    Evidence,
    Exchange,
    Outcome,
    SubjectResult,
    failed,
    not_run,
    passed,
)
from lotflow.verify.runner import run_checks
from lotflow.verify.scorecard import Scorecard, operation_of
from lotflow.verify.session import VerifySession
from tests.verify.portal import junit_root

EXCHANGE = Exchange(
    "POST",
    "http://buyer.test/api/bids",
    {"X-API-Key": "<producer key>"},
    '{"lotId": "x"}',
    500,
    {"content-type": "text/plain"},
    "Internal <Server> Error",
)
AUTH, PROBLEMS = get_check("buyer.api.auth-enforced"), get_check("buyer.api.problem-errors")


def card() -> Scorecard:
    evidence = Evidence("a 4xx problem", "answered 500 text/plain", (EXCHANGE,))
    results = (
        passed(AUTH.id, "listExternalLots"),
        failed(AUTH.id, "submitBid", evidence),
        not_run(PROBLEMS.id, "submitBid", "no producer key", "give --api-key"),
    )
    return Scorecard("http://buyer.test", (AUTH, PROBLEMS), results, 1.5)


# ---------------------------------------------------------------------------------- registry


def test_checks_have_unique_ids_descriptions_and_directions() -> None:
    checks = all_checks()
    assert len({c.id for c in checks}) == len(checks)
    assert all(c.description for c in checks)
    assert all(c.id.startswith(c.direction.party + ".") for c in checks)


def test_selecting_checks_by_id_pattern_and_skip() -> None:
    chosen = select_checks("buyer", ["buyer.workflow.*"], ["buyer.workflow.award-once"])
    assert [c.id for c in chosen] == [
        "buyer.workflow.illegal-refused",
        "buyer.workflow.counter-answered",
    ]
    with pytest.raises(ConfigError, match=r"Did you mean buyer\.api\.auth-enforced"):
        select_checks("buyer", ["buyer.api.auth-enforce"])


def test_a_check_that_breaks_leaves_its_other_subjects_not_run() -> None:
    async def breaks(_session: VerifySession) -> AsyncIterator[SubjectResult]:
        yield passed("test.broken", "first")
        raise KeyError("lot")

    broken = Check(
        "test.broken", "breaks", Direction.BUYER_API, breaks, lambda _s: ["first", "second"]
    )
    session = VerifySession("http://buyer.test", transport=httpx.MockTransport(_answer_404))
    card = asyncio.run(run_checks(session, [broken]))
    assert [r.outcome for r in card.results] == [Outcome.PASSED, Outcome.NOT_RUN]
    assert "the check stopped: KeyError" in card.results[1].reason


def _answer_404(_request: httpx.Request) -> httpx.Response:
    return httpx.Response(404)


# ---------------------------------------------------------------------------------- scorecard


def test_not_run_lowers_the_score_and_only_new_failures_fail_the_run() -> None:
    scored = card()
    assert scored.score == 33.3
    assert scored.exit_code() == 1
    accepted = scored.with_results(
        Baseline((Acceptance(AUTH.id, "submitBid"),)).apply(scored.results)
    )
    assert accepted.exit_code() == 0
    assert accepted.exit_code(fail_under=50) == 1
    assert accepted.counts()["failed"] == 1
    assert accepted.counts()["new_failures"] == 0


def test_subjects_name_their_operation() -> None:
    assert operation_of("submitBid same terms") == "submitBid"
    assert operation_of("buyer.bid pending: decideBid(status=accepted)") == "decideBid"
    assert operation_of("lot.published then lot.updated") == "lot.published"
    assert operation_of("acceptCounterOffer accept (concurrent)") == "acceptCounterOffer"


def test_a_baseline_round_trips_and_refuses_unknown_checks(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    assert write_baseline(path, card().results) == 1
    loaded = load_baseline(path, [AUTH.id])
    assert loaded.accepted == (
        Acceptance(AUTH.id, "submitBid", "accepted when the baseline was made"),
    )
    path.write_text(json.dumps({"accepted": [{"check": "buyer.nope"}]}))
    with pytest.raises(ConfigError, match=r"no check named 'buyer\.nope'"):
        load_baseline(path, [AUTH.id])


# ---------------------------------------------------------------------------------- reports


def test_the_terminal_shows_each_failure_with_its_evidence_and_what_did_not_run() -> None:
    console = Console(record=True, width=200, color_system=None)
    TerminalReporter(console).summary(card())
    text = console.export_text()
    assert "✗ buyer.api.auth-enforced submitBid (failed)" in text
    assert "wanted:   a 4xx problem" in text
    assert "observed: answered 500 text/plain" in text
    assert "> POST http://buyer.test/api/bids" in text
    assert "< 500" in text
    assert "- buyer.api.problem-errors (1 subject): no producer key; to run: give --api-key" in text
    assert "Score 33.3% — 1 passed, 1 failed (1 new), 1 not run" in text


def test_junit_shows_an_accepted_failure_without_failing_on_it(tmp_path: Path) -> None:
    accepted = card().with_results(Baseline((Acceptance(AUTH.id),)).apply(card().results))
    write_junit(accepted, tmp_path / "j.xml")
    root = junit_root(tmp_path / "j.xml")
    assert root.get("failures") == "0"
    skipped = root.find(".//testcase[@name='submitBid'][@classname='buyer.api.auth-enforced']/")
    assert skipped is not None
    assert (skipped.tag, skipped.get("type")) == ("skipped", "accepted")
    assert "< 500" in str(skipped.text)
    assert "failed (accepted)" in render_html(accepted)


def test_junit_has_a_case_per_subject_and_skips_what_did_not_run(tmp_path: Path) -> None:
    write_junit(card(), tmp_path / "j.xml")
    root = junit_root(tmp_path / "j.xml")
    assert root.get("tests") == "3"
    assert root.get("failures") == "1"
    failure = root.find(
        ".//testcase[@classname='buyer.api.auth-enforced'][@name='submitBid']/failure"
    )
    assert failure is not None
    assert failure.get("message") == "a 4xx problem"
    assert "< 500" in str(failure.text)
    assert "> POST http://buyer.test/api/bids" in str(failure.text)
    skipped = root.find(".//testcase[@classname='buyer.api.problem-errors']/skipped")
    assert skipped is not None
    assert "no producer key" in str(skipped.get("message"))


def test_the_html_report_escapes_evidence_and_needs_nothing_else(tmp_path: Path) -> None:
    html = render_html(card())
    assert "Internal &lt;Server&gt; Error" in html
    assert "<script" not in html
    assert "<link" not in html
    assert "To run it: give --api-key" in html
    write_html(card(), tmp_path / "r.html")
    write_json(card(), tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["score"] == 33.3
    assert data["byOperation"]["submitBid"] == {
        "passed": 0,
        "failed": 1,
        "not_run": 1,
        "new_failures": 1,
        "total": 2,
    }
    assert [r["outcome"] for r in data["results"]] == [
        str(o) for o in (Outcome.PASSED, Outcome.FAILED, Outcome.NOT_RUN)
    ]
