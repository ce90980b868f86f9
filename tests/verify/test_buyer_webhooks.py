"""The buyer-as-webhook-sender checks are shown to fail: the reference buyer (real uvicorn, its
dispatcher running with compressed retries) sends its webhooks to verify's listener; built with
each sender fault, the check meant for it fails for the right subject with the attempts as
evidence; clean, nothing fails; without a webhook route the checks are not run, saying how to
give one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lotflow.reference.faults import CATALOGUE

from lotflow.verify.registry import Direction, all_checks
from lotflow.verify.results import Outcome, Severity
from tests.verify.portal import (
    BUYER_SECRET,
    serve_buyer,
    serve_buyer_sending,
    verify,
    verify_webhooks,
)

RETRY, GONE, MOVED = (
    "503 with Retry-After, then 500: lot.published",
    "410 Gone: lot.published",
    "307 redirect: lot.published",
)
# fault → (the check meant to catch it, a subject it fails, text its evidence shows)
CAUGHT_BY = {
    "unsigned-webhooks": ("buyer.webhooks.signed", "bid.accepted", "has no webhook-signature"),
    "legacy-bearer-webhooks": ("buyer.webhooks.signed", "lot.published", "static bearer"),
    "extra-lot-update": ("buyer.webhooks.events", "lot.updated", "1 extra for"),
    "contract-event-dropped": ("buyer.webhooks.events", "contract.created", "missing for"),
    "accepted-event-twice": ("buyer.webhooks.events", "bid.accepted", "1 extra for"),
    "object-id-payloads": ("buyer.webhooks.payloads", "bid.rejected", "/bid/_id must be string"),
    "no-webhook-retries": ("buyer.webhooks.retries", RETRY, "1 attempt(s), answered [503]"),
    "signed-once": ("buyer.webhooks.retries", RETRY, "repeats webhook-timestamp"),
    "retry-after-ignored": ("buyer.webhooks.retries", RETRY, "after a 503 with Retry-After: 1"),
    "follows-redirects": ("buyer.webhooks.retries", MOVED, "followed the 307"),
    "retries-after-gone": ("buyer.webhooks.retries", GONE, "answered [410, 200]"),
    "gives-up-after-two": (
        "buyer.webhooks.outage",
        "lot.published then lot.updated",
        "never arrived after the outage ended",
    ),
}
SENDER_CHECKS = {c.id for c in all_checks("buyer") if c.direction is Direction.BUYER_WEBHOOKS}


def test_every_sender_fault_and_check_is_covered() -> None:
    senders = {name for name, fault in CATALOGUE.items() if fault.transport is not None}
    assert set(CAUGHT_BY) == senders
    assert {check for check, _, _ in CAUGHT_BY.values()} == SENDER_CHECKS


@pytest.mark.parametrize(
    ("fault", "check", "subject", "shown"), [(f, *e) for f, e in CAUGHT_BY.items()]
)
def test_the_sender_check_fails_against_its_fault(
    tmp_path: Path, fault: str, check: str, subject: str, shown: str
) -> None:
    with serve_buyer_sending(tmp_path, [fault]) as (url, listener):
        card = verify_webhooks(url, listener, [check])
    result = next(r for r in card.results if r.subject == subject)
    assert result.outcome is Outcome.FAILED, result
    assert result.evidence is not None
    assert shown in result.evidence.observed, result.evidence.observed
    assert result.evidence.exchanges, "the attempts are the evidence"
    assert all(e.url.startswith((listener.url, url)) for e in result.evidence.exchanges)
    if fault == "legacy-bearer-webhooks":
        assert result.severity is Severity.DEVIATION
    assert BUYER_SECRET not in json.dumps(result.to_dict()) or fault == "legacy-bearer-webhooks"
    assert card.exit_code() == 1


def test_nothing_fails_against_the_clean_buyer_sender(tmp_path: Path) -> None:
    with serve_buyer_sending(tmp_path) as (url, listener):
        card = verify_webhooks(url, listener, ["buyer.webhooks.*"])
    assert card.failures() == []
    assert {r.check_id for r in card.results} == SENDER_CHECKS
    assert all(r.outcome is Outcome.PASSED for r in card.results), card.results
    statuses = {r.status for r in listener.received()}
    assert {503, 500, 410, 307, 200} <= statuses  # the listener did play every answer


def test_without_a_webhook_route_the_sender_checks_are_not_run(tmp_path: Path) -> None:
    with serve_buyer(tmp_path) as url:
        card = verify(url, ["buyer.webhooks.*"])
    assert {r.outcome for r in card.results} == {Outcome.NOT_RUN}
    assert all("--webhook-listen" in r.remedy for r in card.results)


def test_a_bad_listen_address_is_a_usage_error(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from lotflow.cli import main

    with serve_buyer(tmp_path) as url:
        result = CliRunner().invoke(main, ["verify", "buyer", url, "--webhook-listen", "nowhere"])
    assert result.exit_code == 2
    assert "'nowhere' is not HOST:PORT" in result.output
