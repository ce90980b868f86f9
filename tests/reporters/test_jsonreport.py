"""The JSON result: the whole run, machine-readable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lotflow.reporters.jsonreport import JsonReporter
from tests.reporters.stream import HAPPY, STREAM, feed


def report(tmp_path: Path, events: Any = STREAM) -> dict[str, Any]:
    path = tmp_path / "result.json"
    feed(JsonReporter(path), events)
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def test_the_document_holds_the_run_the_summary_and_the_exit_code(tmp_path: Path) -> None:
    document = report(tmp_path)
    assert document["format"] == "lotflow.result/1"
    assert document["complete"] is True
    assert (document["run"]["id"], document["run"]["totalSteps"]) == ("r1", 8)
    assert document["run"]["parties"]["buyer"] == "http://buyer.test"
    summary = document["summary"]
    assert (summary["passed"], summary["failed"], summary["ok"], summary["exitCode"]) == (
        1,
        1,
        False,
        1,
    )


def test_scenarios_and_steps_carry_outcomes_failures_exchanges_and_webhooks(tmp_path: Path) -> None:
    first, second = report(tmp_path)["scenarios"]
    assert (first["name"], first["passed"], first["source"], first["tags"]) == (
        HAPPY,
        False,
        "scenarios/02-counter.yaml",
        ["core"],
    )
    assert [s["outcome"] for s in first["steps"]] == ["passed", "passed", "failed", "skipped"]
    failed = first["steps"][2]
    assert failed["failures"][0]["check"] == "status"
    assert failed["failures"][0]["expected"] == "201"
    assert failed["failures"][0]["response"]["status"] == 409
    exchange = first["steps"][1]["exchanges"][0]
    assert (exchange["operation"], exchange["response"]["status"]) == ("publishLot", 200)
    assert exchange["request"]["headers"]["authorization"] == "[redacted]"
    retried = second["steps"][3]["webhooks"]
    assert [(w["event"], w["attempt"], w["delivered"]) for w in retried] == [
        ("bid.accepted", 2, True),
        ("contract.created", 1, False),
    ]


def test_an_interrupted_run_is_written_as_incomplete(tmp_path: Path) -> None:
    document = report(tmp_path, STREAM[:4])
    assert document["complete"] is False
    assert document["summary"] is None
    assert document["scenarios"] == []


def test_each_scenario_carries_what_each_portal_showed_when_read_again_at_the_end(
    tmp_path: Path,
) -> None:
    first, second = report(tmp_path)["scenarios"]
    assert [(r["portal"], r["entity"], r["id"], r["status"]) for r in first["final"]] == [
        ("producer", "lot", "l1", "open")
    ]
    lot, contract, bid = second["final"]
    assert (lot["status"], lot["reason"]) == (None, "getLot answered 404: Lot l7 not found")
    assert (lot["exchange"]["purpose"], lot["exchange"]["response"]["status"]) == ("final", 404)
    assert (contract["status"], contract["shown"]["contractNumber"]) == ("draft", "NA-2026-0042")
    assert (bid["portal"], bid["actor"], bid["status"]) == ("producer", "producer:beta", "won")
