"""Authentication by the operation's security alternatives, before anything else is looked at."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from lotflow.errors import InvalidSignatureError, MissingSignatureError, StaleTimestampError
from lotflow.http import Authenticator, ForOperation
from lotflow.openapi import Operation
from lotflow.problems import Problem
from tests.core.portal import API_KEY, BOTH_HEADERS, ITEM_ID, TOKEN, portal_app, problem_of, send

pytestmark = pytest.mark.anyio


async def test_a_request_without_credentials_is_a_401_problem(portal_spec: dict[str, Any]) -> None:
    response = await send(portal_app(portal_spec), "GET", f"/items/{ITEM_ID}")
    problem = problem_of(response)
    assert response.status_code == 401
    assert problem["code"] == "unauthorized"
    assert "apiKey" in problem["detail"]
    assert "bearer" in problem["detail"]


@pytest.mark.parametrize(
    ("headers", "principal"),
    [
        ({"X-API-Key": API_KEY}, "key-user"),
        ({"Authorization": f"Bearer {TOKEN}"}, "token-user"),
    ],
)
async def test_any_one_alternative_is_enough_and_its_principal_reaches_the_handler(
    portal_spec: dict[str, Any], headers: dict[str, str], principal: str
) -> None:
    response = await send(portal_app(portal_spec), "GET", f"/items/{ITEM_ID}", headers=headers)
    assert response.status_code == 200
    assert response.json()["principal"] == principal


async def test_wrong_credentials_are_a_401_problem(portal_spec: dict[str, Any]) -> None:
    response = await send(portal_app(portal_spec), "GET", "/items", headers={"X-API-Key": "guess"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"X-API-Key": API_KEY}, 401),
        ({"Authorization": f"Bearer {TOKEN}"}, 401),
        (BOTH_HEADERS, 204),
    ],
)
async def test_an_alternative_naming_two_schemes_needs_both(
    portal_spec: dict[str, Any], headers: dict[str, str], status: int
) -> None:
    response = await send(portal_app(portal_spec), "DELETE", f"/items/{ITEM_ID}", headers=headers)
    assert response.status_code == status


async def test_an_operation_with_empty_security_is_open(portal_spec: dict[str, Any]) -> None:
    assert (await send(portal_app(portal_spec), "GET", "/ping")).status_code == 200


async def test_an_authenticator_may_explain_its_refusal_with_a_problem(
    portal_spec: dict[str, Any],
) -> None:
    def refusing(_request: Request, _raw: bytes) -> None:
        raise Problem.unauthorized("Webhook signature refused: stale timestamp", "stale")

    app = portal_app(portal_spec, authenticators={"apiKey": refusing})
    response = await send(app, "GET", "/items")
    problem = problem_of(response)
    assert (response.status_code, problem["code"]) == (401, "stale")
    assert problem["detail"] == "Webhook signature refused: stale timestamp"
    ok = await send(app, "GET", "/items", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200  # another alternative still wins


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidSignatureError("no match"), "invalid_signature"),
        (StaleTimestampError("old"), "stale_signature"),
    ],
)
async def test_a_signature_error_from_an_authenticator_is_a_401_with_its_reason(
    portal_spec: dict[str, Any], error: Exception, code: str
) -> None:
    def verifying(_request: Request, _raw: bytes) -> None:
        raise error

    app = portal_app(portal_spec, authenticators={"apiKey": verifying})
    problem = problem_of(await send(app, "GET", "/items"))
    assert (problem["status"], problem["code"], problem["detail"]) == (401, code, str(error))


async def test_a_missing_signature_counts_as_absent_credentials(
    portal_spec: dict[str, Any],
) -> None:
    def verifying(_request: Request, _raw: bytes) -> None:
        raise MissingSignatureError("no webhook-signature")

    app = portal_app(portal_spec, authenticators={"apiKey": verifying})
    assert problem_of(await send(app, "GET", "/items"))["code"] == "unauthorized"
    ok = await send(app, "GET", "/items", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200


async def test_authenticators_see_the_raw_body(portal_spec: dict[str, Any]) -> None:
    seen: list[bytes] = []

    def recording(_request: Request, raw: bytes) -> str:
        seen.append(raw)
        return "signed"

    app = portal_app(portal_spec, authenticators={"apiKey": recording})
    body = b'{"name": "jet fuel", "volume": {"amount": 5, "unit": "gallons"}}'
    response = await send(
        app, "POST", "/items", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201
    assert seen == [body]


async def test_authentication_comes_before_parameter_and_body_validation(
    portal_spec: dict[str, Any],
) -> None:
    app = portal_app(portal_spec)
    assert (await send(app, "GET", "/items/not-an-id")).status_code == 401
    assert (await send(app, "GET", "/items", params={"limit": "many"})).status_code == 401
    assert (await send(app, "POST", "/items", content=b"{not json")).status_code == 401


async def test_an_authenticator_made_per_operation_knows_the_operation_it_guards(
    portal_spec: dict[str, Any],
) -> None:
    """A ``ForOperation`` factory is called once per operation naming the scheme, when the app
    is built, with that operation: here the key that opens getItem does not open listItems."""
    made: list[str] = []

    def key_for(op: Operation) -> Authenticator:
        made.append(op.operation_id)
        expected = f"key-of-{op.operation_id}"

        def check(request: Request, _raw: bytes) -> str | None:
            return "key-user" if request.headers.get("X-API-Key") == expected else None

        return check

    app = portal_app(portal_spec, authenticators={"apiKey": ForOperation(key_for)})
    assert "getItem" in made
    assert "listItems" in made
    assert len(made) == len(set(made))
    headers = {"X-API-Key": "key-of-getItem"}
    assert (await send(app, "GET", f"/items/{ITEM_ID}", headers=headers)).status_code == 200
    assert (await send(app, "GET", "/items", headers=headers)).status_code == 401
    listing = {"X-API-Key": "key-of-listItems"}
    assert (await send(app, "GET", "/items", headers=listing)).status_code == 200
