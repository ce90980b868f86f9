"""Replies: encoded once, and checked against the documented response when asked to."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from lotflow.http import OperationRequest, Reply, operation_route
from tests.core.portal import BOTH_HEADERS, ITEM_ID, KEY_HEADERS, item, portal_app, problem_of, send

pytestmark = pytest.mark.anyio


def _reply(reply: Reply) -> Any:
    return lambda _req: reply


async def test_a_reply_is_compact_json(portal_spec: dict[str, Any]) -> None:
    app = portal_app(portal_spec, {"getItem": _reply(Reply(200, {"item": item()}))})
    response = await send(app, "GET", f"/items/{ITEM_ID}", headers=KEY_HEADERS)
    assert response.content.startswith(b'{"item":{"_id":"')
    assert b" " not in response.content.replace(b"jet fuel", b"")


async def test_pre_encoded_json_is_sent_unchanged(portal_spec: dict[str, Any]) -> None:
    raw = b'{"items": [], "count": 0}'
    app = portal_app(portal_spec, {"listItems": _reply(Reply(200, raw_json=raw))})
    response = await send(app, "GET", "/items", headers=KEY_HEADERS)
    assert response.status_code == 200
    assert response.content == raw
    assert response.headers["content-type"] == "application/json"


async def test_reply_headers_are_sent(portal_spec: dict[str, Any]) -> None:
    reply = Reply(200, {"item": item()}, headers={"ETag": '"v3"'})
    app = portal_app(portal_spec, {"getItem": _reply(reply)})
    response = await send(app, "GET", f"/items/{ITEM_ID}", headers=KEY_HEADERS)
    assert response.headers["etag"] == '"v3"'


async def test_a_reply_without_body_is_empty(portal_spec: dict[str, Any]) -> None:
    response = await send(
        portal_app(portal_spec), "DELETE", f"/items/{ITEM_ID}", headers=BOTH_HEADERS
    )
    assert (response.status_code, response.content) == (204, b"")


async def test_a_reply_that_breaks_its_response_schema_is_a_logged_500(
    portal_spec: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    broken = {"item": {"name": "no id", "volume": {"amount": 1, "unit": "liters"}}}
    app = portal_app(portal_spec, {"getItem": _reply(Reply(200, broken))})
    with caplog.at_level(logging.ERROR, logger="lotflow.http"):
        response = await send(app, "GET", f"/items/{ITEM_ID}", headers=KEY_HEADERS)
    problem = problem_of(response)
    assert response.status_code == 500
    assert problem["code"] == "response_contract_violation"
    assert problem["errors"] == [{"field": "/item/_id", "message": "is required"}]
    assert "getItem" in caplog.text
    assert "/item/_id is required" in caplog.text


async def test_pre_encoded_json_is_checked_too(portal_spec: dict[str, Any]) -> None:
    app = portal_app(portal_spec, {"listItems": _reply(Reply(200, raw_json=b'{"items": []}'))})
    response = await send(app, "GET", "/items", headers=KEY_HEADERS)
    assert problem_of(response)["errors"] == [{"field": "/count", "message": "is required"}]


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(418, {"item": item()}), "status 418 is not documented for this operation"),
        (Reply(200), "the documented 200 response has a body; none was sent"),
    ],
)
async def test_an_undocumented_status_or_a_missing_body_is_a_contract_violation(
    portal_spec: dict[str, Any], reply: Reply, message: str
) -> None:
    app = portal_app(portal_spec, {"getItem": _reply(reply)})
    problem = problem_of(await send(app, "GET", f"/items/{ITEM_ID}", headers=KEY_HEADERS))
    assert problem["code"] == "response_contract_violation"
    assert problem["errors"] == [{"field": "", "message": message}]


async def test_a_body_where_none_is_documented_is_a_contract_violation(
    portal_spec: dict[str, Any],
) -> None:
    app = portal_app(portal_spec, {"deleteItem": _reply(Reply(204, {"deleted": True}))})
    response = await send(app, "DELETE", f"/items/{ITEM_ID}", headers=BOTH_HEADERS)
    assert problem_of(response)["code"] == "response_contract_violation"


async def test_the_default_response_covers_undeclared_statuses(portal_spec: dict[str, Any]) -> None:
    async def teapot(_req: OperationRequest) -> Reply:
        return Reply(418, {"pong": False})

    response = await send(portal_app(portal_spec, {"ping": teapot}), "GET", "/ping")
    assert (response.status_code, response.json()) == (418, {"pong": False})


async def test_response_checks_can_be_switched_off(portal_spec: dict[str, Any]) -> None:
    broken = Reply(200, {"item": {"name": "no id"}})
    app = portal_app(portal_spec, {"getItem": _reply(broken)}, validate_responses=False)
    response = await send(app, "GET", f"/items/{ITEM_ID}", headers=KEY_HEADERS)
    assert (response.status_code, response.json()) == (200, {"item": {"name": "no id"}})


async def test_the_same_body_object_is_validated_once_and_a_broken_one_every_time(
    portal_spec: dict[str, Any],
) -> None:
    cached = b'{"items":[],"count":0}'
    broken = b'{"items":"not a list","count":0}'
    bodies = iter([cached, cached, bytes(bytearray(cached)), broken, broken])
    app = portal_app(portal_spec, {"listItems": lambda _req: Reply(200, raw_json=next(bodies))})
    check = operation_route(app, "listItems").operation_endpoint.responses
    assert check is not None
    statuses = []
    for _ in range(5):
        response = await send(app, "GET", "/items", headers=KEY_HEADERS)
        statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 500, 500]
    # the second answer is the very object already checked; the third equal bytes are a new one
    assert (check.validated, check.reused) == (4, 1)
