"""Request checks: body size, parameter coercion and validation, JSON bodies against the spec."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from lotflow.http import Reply, operation_route
from tests.core.portal import ITEM_ID, KEY_HEADERS, portal_app, problem_of, send

pytestmark = pytest.mark.anyio

JSON = {**KEY_HEADERS, "Content-Type": "application/json"}
GOOD_ITEM = {"name": "jet fuel", "volume": {"amount": 5, "unit": "gallons"}}


async def _query(spec: dict[str, Any], params: Any) -> Any:
    response = await send(portal_app(spec), "GET", "/items", params=params, headers=KEY_HEADERS)
    assert response.status_code == 200, response.text
    return response.json()["query"]


# ---------------------------------------------------------------- parameters


async def test_query_parameters_are_coerced_by_their_schema_type(
    portal_spec: dict[str, Any],
) -> None:
    query = await _query(
        portal_spec,
        [("limit", "5"), ("tag", "a"), ("tag", "b"), ("active", "true"), ("minPrice", "2.5")],
    )
    assert query == {"limit": 5, "tag": ["a", "b"], "active": True, "minPrice": 2.5}


async def test_absent_query_parameters_take_their_schema_default(
    portal_spec: dict[str, Any],
) -> None:
    assert await _query(portal_spec, {}) == {"limit": 10}


async def test_unknown_query_parameters_are_refused_naming_the_allowed_ones(
    portal_spec: dict[str, Any],
) -> None:
    response = await send(
        portal_app(portal_spec), "GET", "/items", params={"colour": "red"}, headers=KEY_HEADERS
    )
    problem = problem_of(response)
    assert (response.status_code, problem["code"]) == (400, "invalid_parameter")
    assert problem["errors"][0]["field"] == "colour"
    assert "allowed: active, limit, minPrice, owner, tag" in problem["errors"][0]["message"]


async def test_an_operation_without_query_parameters_ignores_the_query(
    portal_spec: dict[str, Any],
) -> None:
    response = await send(
        portal_app(portal_spec),
        "GET",
        f"/items/{ITEM_ID}",
        params={"colour": "red"},
        headers=KEY_HEADERS,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"limit": "ten"}, "limit", "must be integer, not string"),
        ({"limit": "0"}, "limit", "must be at least 1"),
        ({"limit": "1.5"}, "limit", "must be integer, not string"),
        ({"active": "yes"}, "active", "must be boolean, not string"),
        ({"minPrice": "NaN"}, "minPrice", "must be number, not string"),
        ({"minPrice": "-1"}, "minPrice", "must be at least 0"),
        ({"tag": "toolong"}, "tag/0", "must be at most 5 characters long"),
        ({"owner": "nobody"}, "owner", "must match the pattern ^[0-9a-f]{24}$"),
    ],
)
async def test_a_bad_query_parameter_is_a_400_problem_naming_it(
    portal_spec: dict[str, Any], params: dict[str, str], field: str, message: str
) -> None:
    response = await send(
        portal_app(portal_spec), "GET", "/items", params=params, headers=KEY_HEADERS
    )
    problem = problem_of(response)
    assert response.status_code == 400
    assert problem["code"] == "invalid_parameter"
    assert problem["errors"] == [{"field": field, "message": message}]


async def test_a_malformed_path_parameter_is_a_404_naming_it(portal_spec: dict[str, Any]) -> None:
    response = await send(portal_app(portal_spec), "GET", "/items/not-an-id", headers=KEY_HEADERS)
    problem = problem_of(response)
    assert response.status_code == 404
    assert problem["code"] == "not_found"
    assert problem["errors"] == [
        {"field": "itemId", "message": "must match the pattern ^[0-9a-f]{24}$"}
    ]


async def test_path_parameters_reach_the_handler(portal_spec: dict[str, Any]) -> None:
    response = await send(portal_app(portal_spec), "GET", f"/items/{ITEM_ID}", headers=KEY_HEADERS)
    assert response.json()["item"]["_id"] == ITEM_ID


# ---------------------------------------------------------------- JSON bodies


async def test_a_valid_json_body_reaches_the_handler_parsed(portal_spec: dict[str, Any]) -> None:
    response = await send(
        portal_app(portal_spec), "POST", "/items", json=GOOD_ITEM, headers=KEY_HEADERS
    )
    assert response.status_code == 201
    assert response.json() == {"item": {"_id": ITEM_ID, **GOOD_ITEM}}


async def test_a_body_that_breaks_the_schema_is_a_422_naming_each_field(
    portal_spec: dict[str, Any],
) -> None:
    body = {"name": "jet fuel", "volume": {"amount": 0, "unit": "barrels"}, "colour": "red"}
    response = await send(portal_app(portal_spec), "POST", "/items", json=body, headers=KEY_HEADERS)
    problem = problem_of(response)
    assert response.status_code == 422
    assert problem["code"] == "validation_failed"
    assert problem["title"] == "Request validation failed"
    assert sorted(problem["errors"], key=lambda e: e["field"]) == [
        {"field": "/colour", "message": "is not allowed"},
        {"field": "/volume/amount", "message": "must be greater than 0"},
        {"field": "/volume/unit", "message": 'must be one of "gallons", "liters"'},
    ]


async def test_a_missing_required_body_is_a_422(portal_spec: dict[str, Any]) -> None:
    response = await send(portal_app(portal_spec), "POST", "/items", headers=JSON)
    assert response.status_code == 422
    assert problem_of(response)["code"] == "validation_failed"


@pytest.mark.parametrize(
    "body", [b"{not json", b'{"name": NaN}', b"\xff\xfe\x00garbage", b"[" * 100_000]
)
async def test_a_body_that_is_not_json_is_a_400(portal_spec: dict[str, Any], body: bytes) -> None:
    response = await send(portal_app(portal_spec), "POST", "/items", content=body, headers=JSON)
    assert response.status_code == 400
    assert problem_of(response)["code"] == "invalid_json"


async def test_the_invalid_json_problem_says_where(portal_spec: dict[str, Any]) -> None:
    response = await send(
        portal_app(portal_spec), "POST", "/items", content=b'{\n"a": }', headers=JSON
    )
    assert "line 2" in problem_of(response)["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_body_of_another_media_type_is_a_415(
    portal_spec: dict[str, Any], content_type: str | None
) -> None:
    headers = {**KEY_HEADERS, **({"Content-Type": content_type} if content_type else {})}
    response = await send(
        portal_app(portal_spec), "POST", "/items", content=b"name=x", headers=headers
    )
    assert response.status_code == 415
    assert problem_of(response)["code"] == "unsupported_media_type"


async def test_json_with_parameters_is_accepted(portal_spec: dict[str, Any]) -> None:
    headers = {**KEY_HEADERS, "Content-Type": "Application/JSON; charset=utf-8"}
    response = await send(
        portal_app(portal_spec),
        "POST",
        "/items",
        content=b'{"name":"a","volume":{"amount":1,"unit":"liters"}}',
        headers=headers,
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "content_type", ["application/vnd.evil+json", "application/merge-patch+json", "text/json"]
)
async def test_a_json_looking_type_the_spec_does_not_declare_is_a_415(
    portal_spec: dict[str, Any], content_type: str
) -> None:
    """The operation's request body declares application/json only: a client's own +json
    type is not it (a JSON body under it is still refused, naming what is accepted)."""
    response = await send(
        portal_app(portal_spec),
        "POST",
        "/items",
        content=b'{"name":"a","volume":{"amount":1,"unit":"liters"}}',
        headers={**KEY_HEADERS, "Content-Type": content_type},
    )
    assert response.status_code == 415
    problem = problem_of(response)
    assert problem["code"] == "unsupported_media_type"
    assert "application/json" in problem["detail"]


async def test_a_content_length_of_thousands_of_digits_is_a_413_not_a_crash(
    portal_spec: dict[str, Any],
) -> None:
    app = portal_app(portal_spec, max_body_bytes=1024)
    response = await send(app, "POST", "/items", headers={"Content-Length": "9" * 5000})
    assert response.status_code == 413


# ---------------------------------------------------------------- body size


async def test_a_declared_oversized_body_is_a_413_before_anything_else(
    portal_spec: dict[str, Any],
) -> None:
    app = portal_app(portal_spec, max_body_bytes=1024)
    response = await send(app, "POST", "/items", content=b"x" * 1025)  # no credentials either
    problem = problem_of(response)
    assert response.status_code == 413
    assert problem["code"] == "payload_too_large"
    assert "1024" in problem["detail"]


async def test_a_streamed_body_over_the_limit_is_a_413(portal_spec: dict[str, Any]) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 300

    app = portal_app(portal_spec, max_body_bytes=1024)
    response = await send(app, "POST", "/items", content=chunks(), headers=JSON)
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert problem_of(response)["code"] == "payload_too_large"


async def test_a_body_at_the_limit_is_accepted(portal_spec: dict[str, Any]) -> None:
    body = b'{"name":"a","volume":{"amount":1,"unit":"liters"}}'
    app = portal_app(portal_spec, max_body_bytes=len(body))
    assert (await send(app, "POST", "/items", content=body, headers=JSON)).status_code == 201


async def test_a_malformed_content_length_is_a_400(portal_spec: dict[str, Any]) -> None:
    headers = {**JSON, "Content-Length": "lots"}
    response = await send(portal_app(portal_spec), "POST", "/items", content=b"{}", headers=headers)
    assert response.status_code == 400


async def test_a_lone_surrogate_escape_is_invalid_json_but_a_pair_is_fine(
    portal_spec: dict[str, Any],
) -> None:
    app = portal_app(portal_spec)
    lone = b'{"name": "jet \\ud99b fuel", "volume": {"amount": 5, "unit": "gallons"}}'
    response = await send(app, "POST", "/items", content=lone, headers=JSON)
    assert (response.status_code, problem_of(response)["code"]) == (400, "invalid_json")
    pair = b'{"name": "jet \\ud83d\\ude00 fuel", "volume": {"amount": 5, "unit": "gallons"}}'
    assert (await send(app, "POST", "/items", content=pair, headers=JSON)).status_code == 201


async def test_a_number_no_float_holds_is_a_400_naming_it(portal_spec: dict[str, Any]) -> None:
    body = b'{"name": "jet fuel", "volume": {"amount": 1e400, "unit": "gallons"}}'
    response = await send(portal_app(portal_spec), "POST", "/items", content=body, headers=JSON)
    problem = problem_of(response)
    assert (response.status_code, problem["code"]) == (400, "invalid_json")
    assert "1e400" in problem["detail"]


async def test_a_large_integer_and_other_scripts_pass_through_unchanged(
    portal_spec: dict[str, Any],
) -> None:
    amount = 123456789012345678901234567890  # beyond 64 bits
    body = json.dumps({"name": "Kérosène 燃料 ✈", "volume": {"amount": amount, "unit": "gallons"}})
    response = await send(
        portal_app(portal_spec), "POST", "/items", content=body.encode(), headers=JSON
    )
    assert response.status_code == 201
    assert response.json()["item"]["name"] == "Kérosène 燃料 ✈"
    assert response.json()["item"]["volume"]["amount"] == amount


# ---------------------------------------------------------------- parsed once per distinct input


async def test_a_repeated_query_is_parsed_once_and_each_handler_gets_its_own_copy(
    portal_spec: dict[str, Any],
) -> None:
    seen: list[dict[str, Any]] = []

    def meddling(req: Any) -> Any:
        seen.append({k: list(v) if isinstance(v, list) else v for k, v in req.query.items()})
        req.query.setdefault("tag", []).append("zz")  # changing its copy changes no other one
        req.query["limit"] = 99
        return Reply(200, {"items": [], "count": 0, "query": {}})

    app = portal_app(portal_spec, {"listItems": meddling})
    parameters = operation_route(app, "listItems").operation_endpoint.parameters
    params = [("tag", "a"), ("limit", "5")]
    for _ in range(3):
        response = await send(app, "GET", "/items", params=params, headers=KEY_HEADERS)
        assert response.status_code == 200
    assert seen == [{"tag": ["a"], "limit": 5}] * 3
    assert (parameters.parsed, parameters.reused) == (1, 2)
    other = await send(app, "GET", "/items", params=[("limit", "6")], headers=KEY_HEADERS)
    assert other.status_code == 200
    assert seen[-1] == {"limit": 6}
    assert (parameters.parsed, parameters.reused) == (2, 2)


async def test_a_bad_query_is_refused_every_time_it_is_sent(portal_spec: dict[str, Any]) -> None:
    app = portal_app(portal_spec)
    for _ in range(2):
        response = await send(app, "GET", "/items", params={"limit": "0"}, headers=KEY_HEADERS)
        assert (response.status_code, problem_of(response)["errors"][0]["field"]) == (400, "limit")


@pytest.mark.parametrize(
    ("name", "digits"), [("limit", 4301), ("limit", 400), ("minPrice", 4301), ("minPrice", 309)]
)
async def test_a_number_parameter_of_hundreds_of_digits_is_a_400_naming_it(
    portal_spec: dict[str, Any], name: str, digits: int
) -> None:
    """Python refuses to convert an integer of 4,300+ digits and a float of 309+ digits
    overflows: the length is checked first, so the answer is a 400, never a 500."""
    response = await send(
        portal_app(portal_spec), "GET", f"/items?{name}={'9' * digits}", headers=KEY_HEADERS
    )
    assert response.status_code == 400
    problem = problem_of(response)
    assert problem["code"] == "invalid_parameter"
    assert problem["errors"][0]["field"] == name
    assert "at most 64" in problem["errors"][0]["message"]
