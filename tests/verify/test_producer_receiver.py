"""The producer-as-receiver checks are shown to fail: against the reference producer built with
each producer fault (real uvicorn on a free port), the check meant for it fails for the right
subject with evidence; against the clean producer nothing fails; without the secret or the
operator token the checks that need them are not run, saying what to provide."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from lotflow.reference.faults import fault_names
from lotflow.reference.faults.client import CLIENT_FAULTS

from lotflow.cli import main
from lotflow.credentials import BuyerCredentials
from lotflow.verify.registry import Direction, all_checks
from lotflow.verify.results import Outcome
from tests.verify.portal import PRODUCER_TOKEN, SIGNING_SECRET, serve_producer, verify_producer

# fault → (the check meant to catch it, a subject it fails, text its evidence shows)
CAUGHT_BY = {
    "unsigned-webhooks-accepted": (
        "producer.receiver.signatures",
        "wrong secret: receiveBidWebhook",
        "answered 200",
    ),
    "replays-applied": (
        "producer.receiver.replay",
        "receiveLotWebhook",
        "holds title 'replayed'",
    ),
    "stale-versions-applied": (
        "producer.receiver.stale-version",
        "receiveLotWebhook",
        "holds title 'older'",
    ),
    "crash-on-bad-body": (
        "producer.receiver.malformed",
        "its entity missing: receiveLotWebhook",
        "answered 500 text/plain",
    ),
    "unknown-events-refused": (
        "producer.receiver.unknown-event",
        "receiveContractWebhook",
        "answered 400",
    ),
    "slow-receiver": ("producer.receiver.answer-time", "receiveLotWebhook", "answered 200 after"),
}
ALSO_CAUGHT = [
    ("stale-versions-applied", "producer.receiver.out-of-order", "receiveLotWebhook", "'v2'")
]
RECEIVER_FAULTS = set(fault_names("producer")) - {fault.name for fault in CLIENT_FAULTS}
RECEIVER_CHECKS = {
    c.id for c in all_checks("producer") if c.direction is Direction.PRODUCER_RECEIVER
}


def test_every_producer_fault_and_receiver_check_is_covered() -> None:
    assert set(CAUGHT_BY) == RECEIVER_FAULTS
    proven = {check for check, _, _ in CAUGHT_BY.values()} | {c for _, c, _, _ in ALSO_CAUGHT}
    assert proven == RECEIVER_CHECKS


@pytest.mark.parametrize(
    ("fault", "check", "subject", "shown"),
    [(fault, *expected) for fault, expected in CAUGHT_BY.items()] + ALSO_CAUGHT,
)
def test_the_receiver_check_fails_against_its_fault(
    tmp_path: Path, fault: str, check: str, subject: str, shown: str
) -> None:
    with serve_producer(tmp_path, [fault]) as url:
        card = verify_producer(url, [check])
    result = next(r for r in card.results if r.subject == subject)
    assert result.outcome is Outcome.FAILED, result
    assert result.evidence is not None
    assert shown in result.evidence.observed
    assert result.evidence.exchanges
    assert result.evidence.exchanges[0].status is not None
    assert all(e.url.startswith(url) for e in result.evidence.exchanges)
    shown_text = json.dumps(result.to_dict())
    assert SIGNING_SECRET not in shown_text
    assert PRODUCER_TOKEN not in shown_text
    assert card.exit_code() == 1


def test_nothing_fails_against_the_clean_producer(tmp_path: Path) -> None:
    with serve_producer(tmp_path) as url:
        card = verify_producer(url, ["producer.receiver.*"])
    assert card.failures() == []
    assert {r.check_id for r in card.results} == RECEIVER_CHECKS
    assert all(r.outcome is Outcome.PASSED for r in card.results)
    assert card.exit_code() == 0


def test_without_secret_or_token_the_checks_say_what_to_give(tmp_path: Path) -> None:
    with serve_producer(tmp_path) as url:
        bare = verify_producer(
            url, ["producer.receiver.*"], credentials=BuyerCredentials(), webhook_secrets=()
        )
        card = verify_producer(url, ["producer.receiver.*"], credentials=BuyerCredentials())
    assert {r.outcome for r in bare.results} == {Outcome.NOT_RUN}
    remedies = {r.check_id: r.remedy for r in bare.results}
    assert "--webhook-secret" in remedies["producer.receiver.signatures"]
    not_run = {r.check_id for r in card.results if r.outcome is Outcome.NOT_RUN}
    assert not_run == {
        "producer.receiver.replay",
        "producer.receiver.stale-version",
        "producer.receiver.out-of-order",
    }
    assert all("--operator-token" in r.remedy for r in card.results if r.check_id in not_run)


def test_verify_producer_on_the_command_line(tmp_path: Path) -> None:
    """`lotflow verify producer URL` runs against a served producer: exit 1 on a fault (the JSON
    report names the failing check), 2 on a secret that cannot sign."""
    out = tmp_path / "v.json"
    with serve_producer(tmp_path, ["unknown-events-refused"]) as url:
        args = ["verify", "producer", url, "--webhook-secret", SIGNING_SECRET]
        run = CliRunner().invoke(
            main, [*args, "--operator-token", PRODUCER_TOKEN, "--json", str(out)]
        )
        bad = CliRunner().invoke(main, ["verify", "producer", url, "--webhook-secret", "whsec_%%"])
    assert run.exit_code == 1, run.output
    failed = {
        r["check"] for r in json.loads(out.read_text())["results"] if r["outcome"] == "failed"
    }
    assert failed == {"producer.receiver.unknown-event"}
    assert bad.exit_code == 2
    assert "whsec_" in bad.output


def test_the_unknown_events_fault_refuses_only_events_and_never_crashes(tmp_path: Path) -> None:
    """The deliberate fault is the one mistake it names: an event value that is not a string
    (Schemathesis draws such bodies) is refused with a 4xx like any unknown event, never a 5xx
    of the fault's own making (which would make every tool 'catch' it for the wrong reason)."""
    bodies = [{"event": {"a": 1}}, {"event": ["lot.published"]}, {"event": None}]
    with serve_producer(tmp_path, ["unknown-events-refused"]) as url:
        statuses = [
            httpx.post(f"{url}/api/webhooks/contracts", json=body, timeout=10).status_code
            for body in bodies
        ]
    assert all(400 <= status < 500 for status in statuses), statuses
