"""Every check is shown to fail: against the reference buyer built with the fault it is meant
to catch (real uvicorn on a free port), the check fails for the right subject with evidence
that shows the request, the response and what the contract wanted; against the clean buyer,
no check fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lotflow.reference.faults import CATALOGUE, fault_names

from lotflow.verify.checks.fuzz import UNREACHED
from lotflow.verify.registry import Direction, all_checks
from lotflow.verify.results import Outcome, Severity
from lotflow.verify.runner import RATE_LIMITED
from tests.reference.buyer.portal import TOKENS
from tests.verify.portal import CREDENTIALS, serve_buyer, verify

# fault → (the check meant to catch it, a subject it fails, text its evidence shows)
CAUGHT_BY = {
    "open-producer-api": ("buyer.api.auth-enforced", "listExternalLots", "answered 200"),
    "validation-before-auth": ("buyer.api.auth-before-body", "submitBid", "answered 400"),
    "crash-on-bad-input": ("buyer.api.no-server-errors", "submitBid", "answered 500 text/plain"),
    "legacy-errors": ("buyer.api.problem-errors", "submitBid", 'application/json {"error"'),
    "missing-external-bid": (
        "buyer.api.conformance",
        "getExternalBid",
        "Received: text/html",
    ),
    "unwrapped-external-contract": (
        "buyer.api.reads-back",
        "getExternalContract",
        "the body breaks the documented schema",
    ),
    "bid-fields-dropped": (
        "buyer.api.fields-kept",
        "getExternalBid",
        "not kept: bidderEmail, message",
    ),
    "no-idempotency": ("buyer.api.bid-idempotent", "submitBid concurrent", "statuses [201, 201"),
    "counter-answer-misread": (
        "buyer.workflow.counter-answered",
        "acceptCounterOffer accept",
        "the bid reads back pending, its counter-offer declined",
    ),
    "accept-conflict-swallowed": (
        "buyer.workflow.award-once",
        "decideBid accept (concurrent)",
        "wanted one 200, the rest 409",
    ),
    "no-state-guards": (
        "buyer.workflow.illegal-refused",
        "buyer.lot sold: publishLot",
        "answered 200",
    ),
}
# A second fault for the stateful check: the link from a new bid to its read-back breaks.
ALSO_CAUGHT = [("missing-external-bid", "buyer.api.stateful", "getExternalBid", "text/html")]


API_CHECKS = {c.id for c in all_checks("buyer") if c.direction is not Direction.BUYER_WEBHOOKS}
# The sender faults and the webhook checks are proven in test_buyer_webhooks.py.
API_FAULTS = {name for name in fault_names("buyer") if CATALOGUE[name].transport is None}


def test_every_fault_and_every_check_is_covered() -> None:
    assert set(CAUGHT_BY) == API_FAULTS
    proven = {check for check, _, _ in CAUGHT_BY.values()} | {c for _, c, _, _ in ALSO_CAUGHT}
    assert proven == API_CHECKS


@pytest.mark.parametrize(
    ("fault", "check", "subject", "shown"),
    [(fault, *expected) for fault, expected in CAUGHT_BY.items()] + ALSO_CAUGHT,
)
def test_the_check_fails_against_its_fault(
    tmp_path: Path, fault: str, check: str, subject: str, shown: str
) -> None:
    with serve_buyer(tmp_path, [fault]) as url:
        card = verify(url, [check])
    result = next(r for r in card.results if r.subject == subject)
    assert result.outcome is Outcome.FAILED, result
    assert result.evidence is not None
    evidence = result.evidence
    assert shown in evidence.observed + "".join(str(e.response_body) for e in evidence.exchanges)
    assert evidence.expected
    assert all(e.status is not None and e.method and e.url for e in evidence.exchanges)
    shown_text = json.dumps(result.to_dict())
    assert str(CREDENTIALS.api_key) not in shown_text  # secrets are named, never shown
    assert TOKENS["a"] not in shown_text
    assert card.exit_code() == 1


def test_nothing_fails_against_the_clean_buyer(tmp_path: Path) -> None:
    with serve_buyer(tmp_path) as url:
        card = verify(url, sorted(API_CHECKS))
    assert card.failures() == []
    assert {r.check_id for r in card.results} == API_CHECKS
    not_run = [r for r in card.results if r.outcome is Outcome.NOT_RUN]
    timers = [r for r in not_run if " expired: " in r.subject]
    unreached = [r for r in not_run if r.check_id == "buyer.api.stateful"]
    assert timers  # and links the small budget did not reach, said so
    assert len(not_run) == len(timers) + len(unreached)
    assert all(r.reason == UNREACHED for r in unreached)
    assert card.exit_code() == 0


def test_the_legacy_profile_reports_error_bodies_as_deviations(tmp_path: Path) -> None:
    with serve_buyer(tmp_path, ["legacy-errors"]) as url:
        legacy = verify(url, ["buyer.api.problem-errors", "buyer.api.conformance"], legacy=True)
    failures = legacy.failures()
    assert {r.check_id for r in failures} == {"buyer.api.problem-errors"}
    assert {r.severity for r in failures} == {Severity.DEVIATION}


def test_the_checks_that_send_wrong_credentials_run_after_the_others(tmp_path: Path) -> None:
    """A portal that limits failed authentications (3 here) locks verify out only after the
    workflow checks had their answers: those pass, the auth probes past the limit are not run."""
    with serve_buyer(tmp_path, auth_failure_limit=3) as url:
        card = verify(url, ["buyer.api.auth-enforced", "buyer.workflow.award-once"])
    award = [r for r in card.results if r.check_id == "buyer.workflow.award-once"]
    assert award
    assert all(r.outcome is Outcome.PASSED for r in award), award
    assert card.failures() == []
    assert any(r.reason == RATE_LIMITED for r in card.results)


def test_a_schemathesis_auth_probe_answered_429_is_not_run_never_passed(tmp_path: Path) -> None:
    """Schemathesis's own probe without or with a wrong key met the limit: that operation's
    auth was not judged, so its conformance is not run (not a failure, not a pass)."""
    with serve_buyer(tmp_path, auth_failure_limit=1) as url:
        card = verify(url, ["buyer.api.conformance"])
    assert card.failures() == []
    limited = [r for r in card.results if r.reason == RATE_LIMITED]
    assert limited, card.results
    assert all(r.outcome is Outcome.NOT_RUN for r in limited)


def test_a_portal_that_rate_limits_the_probes_is_reported_not_run_not_failed(
    tmp_path: Path,
) -> None:
    """A 429 judges nothing about the contract: what it answered is not run, with the reason
    and the remedy, never a failure and never a pass."""
    with serve_buyer(tmp_path, auth_failure_limit=3) as url:
        card = verify(url, ["buyer.api.auth-enforced"])
    assert card.failures() == []
    limited = [r for r in card.results if r.reason == RATE_LIMITED]
    assert limited, card.results
    assert all(r.outcome is Outcome.NOT_RUN for r in limited)
    assert "LOTFLOW_AUTH_FAILURE_LIMIT" in limited[0].remedy


def test_an_auth_probe_failure_naming_a_429_is_told_apart_from_a_real_one() -> None:
    from schemathesis.openapi.checks import AuthScenario, IgnoredAuth

    from lotflow.verify.checks.fuzz import _probe_rate_limited

    def probe(status: str) -> IgnoredAuth:
        message = f"Expected 401 or 403, got `{status}` for `GET /api/lots/external`"
        return IgnoredAuth(operation="GET", message=message, scenario=AuthScenario.INVALID_AUTH)

    assert _probe_rate_limited(probe("429 Too Many Requests"))
    assert not _probe_rate_limited(probe("200 OK"))
    assert not _probe_rate_limited(probe("500 Internal Server Error"))
