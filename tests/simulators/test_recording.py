"""A recording is HAR 1.2, and reading it back gives exactly the exchanges that happened."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import jsonschema_rs
from lotflow.simulators import BuyerSimulator, read_har

from lotflow.serving import ServerThread
from tests.simulators.receiver import RecordingReceiver

# The required members of HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), as a schema.
NAME_VALUES = {"type": "array", "items": {"type": "object", "required": ["name", "value"]}}
HAR_1_2 = {
    "type": "object",
    "required": ["log"],
    "properties": {
        "log": {
            "type": "object",
            "required": ["version", "creator", "entries"],
            "properties": {
                "version": {"const": "1.2"},
                "creator": {"type": "object", "required": ["name", "version"]},
                "entries": {"type": "array", "items": {"$ref": "#/$defs/entry"}},
            },
        }
    },
    "$defs": {
        "entry": {
            "type": "object",
            "required": ["startedDateTime", "time", "request", "response", "cache", "timings"],
            "properties": {
                "startedDateTime": {"type": "string", "format": "date-time"},
                "time": {"type": "number", "minimum": 0},
                "request": {
                    "type": "object",
                    "required": [
                        "method",
                        "url",
                        "httpVersion",
                        "cookies",
                        "headers",
                        "queryString",
                        "headersSize",
                        "bodySize",
                    ],
                    "properties": {
                        "headers": NAME_VALUES,
                        "queryString": NAME_VALUES,
                        "postData": {"type": "object", "required": ["mimeType"]},
                    },
                },
                "response": {
                    "type": "object",
                    "required": [
                        "status",
                        "statusText",
                        "httpVersion",
                        "cookies",
                        "headers",
                        "content",
                        "redirectURL",
                        "headersSize",
                        "bodySize",
                    ],
                    "properties": {
                        "headers": NAME_VALUES,
                        "content": {"type": "object", "required": ["size", "mimeType"]},
                    },
                },
                "timings": {
                    "type": "object",
                    "required": ["send", "wait", "receive"],
                    "properties": {
                        k: {"type": "number", "minimum": -1} for k in ("send", "wait", "receive")
                    },
                },
            },
        }
    },
}


def test_a_recording_reads_back_as_what_happened(tmp_path: Path) -> None:
    receiver = RecordingReceiver()
    with ServerThread(receiver.app) as server:
        plan = {"webhooks": [{"fault": "duplicate"}, {"fault": "drop", "skip": 1}]}
        with BuyerSimulator(server.url, backoff_base=0.05, record=tmp_path / "run.har") as sim:
            sim.use_faults(json.dumps(plan))
            sim.publish_lot()
            assert sim.log.wait_until(lambda: len(sim.log) >= 2, 5)  # both copies answered
            httpx.get(
                f"{sim.url}/api/lots/external",
                params={"status": "published"},
                headers={"x-api-key": sim.api_key},
            )
            httpx.post(f"{sim.url}/api/bids", json={"lotId": 1}, headers={"x-api-key": sim.api_key})
            sim.publish_lot()
            assert sim.log.wait_until(lambda: len(sim.log) >= 3, 5)
        happened = sim.exchanges()
    text = (tmp_path / "run.har").read_text(encoding="utf-8")
    assert sim.api_key not in text  # credentials are redacted, signatures kept
    document = json.loads(text)
    assert list(jsonschema_rs.validator_for(HAR_1_2).iter_errors(document)) == []
    assert read_har(tmp_path / "run.har") == happened
    kinds = [(e.kind, e.subject, e.status, e.attempt, e.faults) for e in happened]
    assert kinds[:4] == [
        ("webhook", "lot.published", 200, 1, ("duplicate",)),
        ("webhook", "lot.published", 200, 2, ("duplicate",)),
        ("call", "listExternalLots", 200, 0, ()),
        ("call", "submitBid", 422, 0, ()),
    ]
    assert kinds[4:] == [
        ("webhook", "lot.published", None, 1, ("drop",)),
        ("webhook", "lot.published", 200, 2, ()),
    ]
    assert happened[1].since_previous_ms is not None
    assert happened[1].since_previous_ms >= 0
    assert [f.rule for f in happened[3].findings] == ["request.body"]
