"""The producer-as-client checks are shown to fail: verify plays the reference producer's buyer
(a buyer simulator on a free port, the producer configured with its URL and key), drives the
producer through its operator API and judges what it sent the buyer. Against the producer built
with each client fault the check meant for it fails with evidence; against the clean producer
nothing fails; without the simulated buyer, the operator token or the webhook secret, what needs
them is not run, saying what to provide."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from lotflow.reference.faults.client import CLIENT_FAULTS, RENAMED

from lotflow.cli import main
from lotflow.cli.portals import free_port
from lotflow.credentials import BuyerCredentials
from lotflow.verify.checks.client import ACCEPTED
from lotflow.verify.registry import Direction, all_checks
from lotflow.verify.results import Outcome
from lotflow.verify.simulated import key_headers
from tests.verify.portal import (
    BUYER_KEY,
    PRODUCER_TOKEN,
    SIGNING_SECRET,
    serve_producer,
    serve_producer_with_buyer,
    verify_client,
)

# fault → (the check meant to catch it, a subject it fails, text its evidence shows)
CAUGHT_BY = {
    "api-key-dropped": ("producer.client.api-key", "submitProducerBid", "submitBid answered 401"),
    "new-external-id-per-attempt": (
        "producer.client.retry-same-id",
        "submitProducerBid after a 503",
        "2 attempts carried externalBidIds",
    ),
    "refusal-taken-as-success": (
        "producer.client.refusals",
        "submitProducerBid answered 409",
        "answered 201",
    ),
    "bid-field-renamed": (
        "producer.client.bodies",
        "submitProducerBid",
        f"/{RENAMED[1]} is not allowed",
    ),
    "counter-answer-without-contract": (
        "producer.client.counter-accepted",
        ACCEPTED,
        "the producer answered 200, the bid won, no contract",
    ),
}
ALSO_CAUGHT = [
    ("api-key-dropped", "producer.client.api-key", "syncMarketplace", "answered 401"),
    ("new-external-id-per-attempt", "producer.client.retry-same-id",
     "submitProducerBid after a dropped connection", "2 attempts carried externalBidIds"),
    ("refusal-taken-as-success", "producer.client.refusals", "submitProducerBid answered 422",
     "shown as submitted"),
]  # fmt: skip
CLIENT_CHECKS = {c.id for c in all_checks("producer") if c.direction is Direction.PRODUCER_CLIENT}


def test_the_key_may_travel_where_the_buyer_spec_says() -> None:
    assert key_headers() == {"x-api-key", "authorization"}


def test_every_client_fault_and_check_is_covered() -> None:
    assert set(CAUGHT_BY) == {fault.name for fault in CLIENT_FAULTS}
    assert {check for check, _, _ in CAUGHT_BY.values()} == CLIENT_CHECKS


@pytest.mark.parametrize(
    ("fault", "check", "subject", "shown"),
    [(fault, *expected) for fault, expected in CAUGHT_BY.items()] + ALSO_CAUGHT,
)
def test_the_client_check_fails_against_its_fault(
    tmp_path: Path, fault: str, check: str, subject: str, shown: str
) -> None:
    with serve_producer_with_buyer(tmp_path, [fault]) as (url, buyer):
        card = verify_client(url, buyer, [check])
        buyer_url = buyer.url
    result = next(r for r in card.results if r.subject == subject)
    assert result.outcome is Outcome.FAILED, result
    assert result.evidence is not None
    assert shown in result.evidence.observed
    # the evidence shows what the producer sent the buyer, the key never in clear
    assert any(e.url.startswith(buyer_url) for e in result.evidence.exchanges)
    shown_text = json.dumps(result.to_dict())
    assert BUYER_KEY not in shown_text
    assert PRODUCER_TOKEN not in shown_text
    assert card.exit_code() == 1


def test_the_evidence_shows_the_retries_ids(tmp_path: Path) -> None:
    """The new-id fault's evidence holds both attempts, each with its own externalBidId."""
    with serve_producer_with_buyer(tmp_path, ["new-external-id-per-attempt"]) as (url, buyer):
        card = verify_client(url, buyer, ["producer.client.retry-same-id"])
    result = next(r for r in card.results if r.subject == "submitProducerBid after a 503")
    assert result.evidence is not None
    sent = [json.loads(e.request_body or "{}") for e in result.evidence.exchanges[:2]]
    assert [e.status for e in result.evidence.exchanges[:2]] == [503, 201]
    assert sent[0]["externalBidId"] != sent[1]["externalBidId"]


def test_nothing_fails_against_the_clean_producer(tmp_path: Path) -> None:
    with serve_producer_with_buyer(tmp_path) as (url, buyer):
        card = verify_client(url, buyer)
    assert card.failures() == []
    assert {r.check_id for r in card.results} == CLIENT_CHECKS
    assert all(r.outcome is Outcome.PASSED for r in card.results), card.results
    assert card.exit_code() == 0


def test_without_buyer_or_token_the_client_checks_are_not_run(tmp_path: Path) -> None:
    with serve_producer_with_buyer(tmp_path) as (url, buyer):
        no_buyer = verify_client(url, None)
        no_token = verify_client(url, buyer, credentials=BuyerCredentials())
        calls = buyer.calls(0)
    assert {r.outcome for r in no_buyer.results} == {Outcome.NOT_RUN}
    assert all("--buyer-listen" in r.remedy for r in no_buyer.results)
    assert {r.outcome for r in no_token.results} == {Outcome.NOT_RUN}
    assert all("--operator-token" in r.remedy for r in no_token.results)
    assert calls == []  # nothing was driven
    assert no_token.exit_code() == 0
    assert no_token.score == 0  # not run is never counted as passed


def test_without_the_webhook_secret_the_counter_offer_is_not_run(tmp_path: Path) -> None:
    with serve_producer_with_buyer(tmp_path, secret=None) as (url, buyer):
        card = verify_client(
            url, buyer, ["producer.client.bodies", "producer.client.counter-accepted"]
        )
    outcomes = {r.subject: r for r in card.results}
    for subject in ("respondToCounterOffer", ACCEPTED):
        assert outcomes[subject].outcome is Outcome.NOT_RUN
        assert "--webhook-secret" in outcomes[subject].remedy
    countered = {"respondToCounterOffer", ACCEPTED}
    assert {r.outcome for s, r in outcomes.items() if s not in countered} == {Outcome.PASSED}


def test_verify_producer_plays_the_buyer_on_the_command_line(tmp_path: Path) -> None:
    """`--buyer-listen HOST:PORT` serves the buyer where the producer was told it is: the client
    checks run (exit 1 on a client fault, the JSON report naming the check); a bad address is a
    usage error naming it."""
    port = free_port("127.0.0.1")
    out = tmp_path / "v.json"
    buyer = {"NEXT_PUBLIC_BUYER_DASHBOARD_URL": f"http://127.0.0.1:{port}"}
    with serve_producer(
        tmp_path, ["refusal-taken-as-success"], BUYER_API_KEY=BUYER_KEY, **buyer
    ) as url:
        args = ["verify", "producer", url, "--buyer-listen", f"127.0.0.1:{port}"]
        args += ["--buyer-key", BUYER_KEY, "--webhook-secret", SIGNING_SECRET]
        args += ["--operator-token", PRODUCER_TOKEN, "--check", "producer.client.*"]
        run = CliRunner().invoke(main, [*args, "--json", str(out)])
        bad = CliRunner().invoke(main, ["verify", "producer", url, "--buyer-listen", "3004"])
    assert run.exit_code == 1, run.output
    assert f"Playing the buyer at http://127.0.0.1:{port}" in run.output
    assert BUYER_KEY not in run.output
    results = json.loads(out.read_text())["results"]
    assert {r["check"] for r in results if r["outcome"] == "failed"} == {"producer.client.refusals"}
    assert {r["outcome"] for r in results if r["check"] != "producer.client.refusals"} == {"passed"}
    assert bad.exit_code == 2
    assert "--buyer-listen '3004' is not HOST:PORT" in bad.output
