"""The spec-bound app: one route per operation, the spec served as-is, errors as problem+json."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from lotflow.errors import SpecError
from lotflow.http import OperationRequest, Reply, build_app, routes_of
from lotflow.openapi import operations
from tests.core.portal import (
    AUTHENTICATORS,
    HANDLERS,
    ITEM_ID,
    KEY_HEADERS,
    portal_app,
    problem_of,
    send,
)

pytestmark = pytest.mark.anyio


def _spec_routes(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(op.method.upper(), op.path) for op in operations(spec).values()}


def test_the_app_has_exactly_one_route_per_operation(portal_spec: dict[str, Any]) -> None:
    assert routes_of(portal_app(portal_spec)) == _spec_routes(portal_spec)


def test_a_route_added_by_hand_shows_up_as_drift(portal_spec: dict[str, Any]) -> None:
    app = portal_app(portal_spec)

    async def health(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app.add_route("/health", health, methods=["GET"])
    assert routes_of(app) - _spec_routes(portal_spec) == {("GET", "/health")}


def test_an_operation_without_a_handler_is_refused_at_build_time(
    portal_spec: dict[str, Any],
) -> None:
    handlers = {k: v for k, v in HANDLERS.items() if k not in ("getItem", "ping")}
    with pytest.raises(SpecError, match="operations without a handler: getItem, ping"):
        build_app(portal_spec, handlers, authenticators=AUTHENTICATORS)


def test_a_handler_for_an_unknown_operation_is_refused_at_build_time(
    portal_spec: dict[str, Any],
) -> None:
    handlers = {**HANDLERS, "getItme": HANDLERS["getItem"]}
    with pytest.raises(SpecError, match="handlers for operations the spec does not have: getItme"):
        build_app(portal_spec, handlers, authenticators=AUTHENTICATORS)


def test_a_security_scheme_without_an_authenticator_is_refused_at_build_time(
    portal_spec: dict[str, Any],
) -> None:
    with pytest.raises(SpecError, match="security schemes without an authenticator: bearer"):
        build_app(portal_spec, HANDLERS, authenticators={"apiKey": AUTHENTICATORS["apiKey"]})


async def test_requests_reach_the_handler_of_their_operation(portal_spec: dict[str, Any]) -> None:
    response = await send(portal_app(portal_spec), "GET", f"/items/{ITEM_ID}", headers=KEY_HEADERS)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["item"]["_id"] == ITEM_ID


async def test_a_literal_path_wins_over_a_templated_one(portal_spec: dict[str, Any]) -> None:
    response = await send(portal_app(portal_spec), "GET", "/items/special", headers=KEY_HEADERS)
    assert response.status_code == 200
    assert response.json()["item"]["name"] == "special"


async def test_a_concrete_path_owns_its_urls_even_for_methods_it_lacks(
    portal_spec: dict[str, Any],
) -> None:
    # DELETE exists on /items/{itemId} only: /items/special is a path of its own, so it is a 405.
    response = await send(portal_app(portal_spec), "DELETE", "/items/special", headers=KEY_HEADERS)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


async def test_async_and_sync_handlers_both_answer(portal_spec: dict[str, Any]) -> None:
    app = portal_app(portal_spec)
    assert (await send(app, "GET", "/ping")).json() == {"pong": True}
    assert (await send(app, "GET", "/items", headers=KEY_HEADERS)).status_code == 200


async def test_the_bundled_spec_is_served_at_openapi_json(portal_spec: dict[str, Any]) -> None:
    response = await send(portal_app(portal_spec), "GET", "/openapi.json")
    assert response.status_code == 200
    assert response.json() == portal_spec


async def test_fastapi_docs_routes_are_off(portal_spec: dict[str, Any]) -> None:
    for path in ("/docs", "/redoc"):
        response = await send(portal_app(portal_spec), "GET", path)
        assert problem_of(response)["code"] == "not_found"


async def test_an_unknown_path_is_a_404_problem(portal_spec: dict[str, Any]) -> None:
    response = await send(portal_app(portal_spec), "GET", "/nowhere")
    problem = problem_of(response)
    assert response.status_code == 404
    assert (problem["code"], problem["instance"]) == ("not_found", "/nowhere")


async def test_a_wrong_method_is_a_405_problem_with_allow(portal_spec: dict[str, Any]) -> None:
    response = await send(portal_app(portal_spec), "PUT", "/items", headers=KEY_HEADERS)
    assert response.status_code == 405
    assert problem_of(response)["code"] == "method_not_allowed"
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


async def test_a_problem_raised_by_a_handler_is_answered_as_is(portal_spec: dict[str, Any]) -> None:
    response = await send(portal_app(portal_spec), "GET", "/items/" + "0" * 24, headers=KEY_HEADERS)
    problem = problem_of(response)
    assert response.status_code == 404
    assert problem["code"] == "not_found"
    assert problem["instance"] == "/items/" + "0" * 24


async def test_an_unhandled_exception_is_a_500_problem_without_a_traceback_and_is_logged(
    portal_spec: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    def explode(_req: OperationRequest) -> Reply:
        raise RuntimeError("database password is hunter2")

    app = portal_app(portal_spec, {"listItems": explode})
    with caplog.at_level(logging.ERROR, logger="lotflow.http"):
        response = await send(app, "GET", "/items", headers=KEY_HEADERS)
    assert response.status_code == 500
    assert problem_of(response)["code"] == "internal_error"
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert "hunter2" in caplog.text
    assert "listItems" in caplog.text


async def test_a_handler_that_returns_no_reply_is_a_500_problem(
    portal_spec: dict[str, Any],
) -> None:
    def wrong(_req: OperationRequest) -> Any:
        return {"items": []}

    app = portal_app(portal_spec, {"listItems": wrong})
    response = await send(app, "GET", "/items", headers=KEY_HEADERS)
    assert response.status_code == 500
    assert problem_of(response)["code"] == "internal_error"
