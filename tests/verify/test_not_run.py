"""What verify cannot check without the right credentials is reported as not run, with the
reason and what to provide, and never counted as passed; a state-setup URL stands in for the
operator API."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from lotflow.credentials import BuyerCredentials, Credentials
from lotflow.errors import TransportError
from lotflow.serving import ServerThread
from lotflow.verify.results import Outcome
from lotflow.verify.session import Budget, VerifySession
from lotflow.verify.states import StateBuilder, UnreachableError
from tests.verify.portal import CREDENTIALS, SMALL, serve_buyer, verify

KEY_ONLY = BuyerCredentials(api_key=CREDENTIALS.api_key)


def test_without_operator_credentials_the_workflow_checks_are_not_run(tmp_path: Path) -> None:
    with serve_buyer(tmp_path) as url:
        card = verify(url, ["buyer.workflow.*", "buyer.api.auth-enforced"], KEY_ONLY)
    workflow = [r for r in card.results if r.check_id.startswith("buyer.workflow.")]
    assert workflow
    assert {r.outcome for r in workflow} == {Outcome.NOT_RUN}
    award = next(r for r in workflow if r.check_id == "buyer.workflow.award-once")
    assert "no operator credentials" in award.reason
    assert "--buyer-header" in award.remedy
    api = [r for r in card.results if r.check_id == "buyer.api.auth-enforced"]
    assert {r.outcome for r in api} == {Outcome.PASSED}
    assert card.exit_code() == 0
    assert card.score == round(100 * len(api) / len(card.results), 1)  # not run is not passed
    assert card.exit_code(fail_under=90) == 1


def test_without_any_key_the_api_checks_are_not_run(tmp_path: Path) -> None:
    with serve_buyer(tmp_path) as url:
        card = verify(url, ["buyer.api.no-server-errors"], BuyerCredentials())
    assert {r.outcome for r in card.results} == {Outcome.NOT_RUN}
    assert all("--api-key" in r.remedy for r in card.results)
    assert card.score == 0.0


def _state_app(buyer_url: str) -> Starlette:
    """A team's provider-state endpoint: sets entities up its own way (here: through the
    reference buyer's operator API) and answers their ids."""

    async def setup(request: Request) -> JSONResponse:
        wanted = await request.json()
        machine, state = wanted["state"].split(" ")
        session = VerifySession(buyer_url, CREDENTIALS, budget=SMALL)
        async with session.open():
            try:
                made = await StateBuilder(session).reach(machine, state)
            except UnreachableError as exc:
                return JSONResponse({"error": exc.reason}, 422)
        ids: dict[str, Any] = {
            "lotId": made.lot_id,
            "bidId": made.bid_id,
            "counterOfferId": made.counter_id,
            "contractId": made.contract_id,
        }
        return JSONResponse({k: v for k, v in ids.items() if v})

    return Starlette(routes=[Route("/_state", setup, methods=["POST"])])


def test_a_state_url_sets_up_the_producer_facing_workflow_cases(tmp_path: Path) -> None:
    with serve_buyer(tmp_path) as url, ServerThread(_state_app(url)) as states:
        card = verify(
            url,
            ["buyer.workflow.illegal-refused"],
            KEY_ONLY,
            state_url=states.url + "/_state",
        )
    by_subject = {r.subject: r for r in card.results}
    producer_case = by_subject["buyer.bid accepted: acceptCounterOffer(accept=true)"]
    assert producer_case.outcome is Outcome.PASSED
    operator_case = by_subject["buyer.lot sold: publishLot"]
    assert operator_case.outcome is Outcome.NOT_RUN
    assert "operator credentials" in operator_case.reason
    assert not card.failures()


def test_a_state_url_that_refuses_leaves_its_subjects_not_run(tmp_path: Path) -> None:
    refusing = Starlette(
        routes=[Route("/_state", lambda _r: JSONResponse({}, 500), methods=["POST"])]
    )
    with serve_buyer(tmp_path) as url, ServerThread(refusing) as states:
        card = verify(
            url, ["buyer.workflow.illegal-refused"], KEY_ONLY, state_url=states.url + "/_state"
        )
    ran = [r for r in card.results if r.outcome is not Outcome.NOT_RUN]
    assert ran == []
    assert any("answered 500" in r.reason for r in card.results)


def test_a_spent_time_budget_leaves_the_fuzzing_subjects_not_run(tmp_path: Path) -> None:
    with serve_buyer(tmp_path) as url:
        card = verify(url, ["buyer.api.conformance"], budget=Budget(time_budget=0.0))
    assert {r.outcome for r in card.results} == {Outcome.NOT_RUN}
    assert all("--time-budget" in r.remedy for r in card.results)


def test_a_portal_without_the_operator_api_leaves_setups_not_run(tmp_path: Path) -> None:
    with serve_buyer(tmp_path) as url:
        card = verify(
            url,
            ["buyer.workflow.award-once"],
            BuyerCredentials(CREDENTIALS.api_key, operator=Credentials({"Cookie": "__session=x"})),
        )
    assert {r.outcome for r in card.results} == {Outcome.NOT_RUN}
    assert all("createLot answered 401" in r.reason for r in card.results)
    assert all("--state-url" in r.remedy for r in card.results)


def test_the_preflight_names_an_unreachable_portal() -> None:
    session = VerifySession("http://127.0.0.1:9", CREDENTIALS, budget=SMALL)

    async def run() -> None:
        async with session.open():
            await session.preflight()

    with pytest.raises(TransportError, match=r"Cannot reach http://127\.0\.0\.1:9"):
        asyncio.run(run())
