"""Authentication per audience, no reads or writes across organisations, and input that never
turns into a 5xx."""

from __future__ import annotations

import json

import pytest

from tests.reference.buyer.portal import API_KEY, LOT, TOKENS, Portal

pytestmark = pytest.mark.anyio

OPERATOR = {"Authorization": f"Bearer {TOKENS['a']}", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": "wrong"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {API_KEY}"},
        {"Authorization": f"Bearer {TOKENS['a']}"},  # an operator token is not the producer key
        {"X-API-Key": "clé"},  # non-ASCII is compared safely, never a 500
    ],
)
async def test_producer_operations_need_the_producer_key(
    portal: Portal, headers: dict[str, str]
) -> None:
    raw = {name: value.encode("latin-1") for name, value in headers.items()}
    response = await portal.client.get("/api/lots/external", headers=raw)
    assert (response.status_code, response.json()["code"]) == (401, "unauthorized")
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": API_KEY},
        {"Authorization": f"Bearer {API_KEY}"},
        {"Authorization": "Bearer nope"},
    ],
)
async def test_operator_operations_need_an_operator_token(
    portal: Portal, headers: dict[str, str]
) -> None:
    response = await portal.client.get("/api/lots", headers=headers)
    assert response.status_code == 401


async def test_another_organisation_sees_none_of_a_lot_and_its_bids_contract_and_events(
    portal: Portal,
) -> None:
    lot = await portal.published_lot(org="a")
    bid = await portal.bid(lot)
    accepted = await portal.op("PUT", f"/api/bids/{bid['_id']}", json={"status": "accepted"})
    contract = accepted.json()["contract"]
    delivery = (await portal.deliveries())[0]["_id"]
    note = (await portal.op("GET", "/api/notifications")).json()["notifications"][0]["_id"]
    for method, url in (
        ("GET", f"/api/lots/{lot['_id']}"),
        ("PATCH", f"/api/lots/{lot['_id']}"),
        ("DELETE", f"/api/lots/{lot['_id']}"),
        ("POST", f"/api/lots/{lot['_id']}/publish"),
        ("GET", f"/api/lots/{lot['_id']}/bids"),
        ("GET", f"/api/bids/{bid['_id']}"),
        ("PUT", f"/api/bids/{bid['_id']}"),
        ("POST", f"/api/bids/{bid['_id']}/counter"),
        ("GET", f"/api/contracts/{contract['_id']}"),
        ("PATCH", f"/api/contracts/{contract['_id']}"),
        ("POST", f"/api/notifications/{note}/read"),
        ("GET", f"/api/webhooks/deliveries/{delivery}"),
        ("POST", f"/api/webhooks/deliveries/{delivery}/redeliver"),
    ):
        response = await portal.op(method, url, org="b", json=_body_for(method, url))
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), (method, url)
    for url in ("/api/lots", "/api/contracts", "/api/notifications", "/api/webhooks/deliveries"):
        assert (await portal.op("GET", url, org="b")).json()["count"] == 0, url
    taken = await portal.op("POST", "/api/contracts", org="b", json={"bidId": bid["_id"]})
    assert taken.status_code == 404


def _body_for(method: str, url: str) -> dict[str, object] | None:
    if method == "PATCH":
        return {"status": "signed"} if "contracts" in url else {"title": "taken over"}
    if method == "PUT":
        return {"status": "rejected"}
    if url.endswith("/counter"):
        return {"volume": {"amount": 1, "unit": "gallons"}, "pricePerUnit": 1}
    return None


async def test_marking_a_notification_read_is_idempotent(portal: Portal) -> None:
    await portal.published_lot()
    note = (await portal.op("GET", "/api/notifications")).json()["notifications"][0]
    url = f"/api/notifications/{note['_id']}/read"
    portal.clock.advance(5)
    first = (await portal.op("POST", url)).json()["notification"]
    portal.clock.advance(5)
    again = (await portal.op("POST", url)).json()["notification"]
    assert first == again
    assert first["readAt"] == "2026-11-25T09:00:05.000Z"
    assert (await portal.op("GET", "/api/notifications", params={"unread": True})).json()[
        "count"
    ] == 0
    assert (await portal.op("GET", "/api/notifications")).json()["count"] == 1


async def test_the_body_size_limit_is_a_413_and_stores_nothing(portal: Portal) -> None:
    big = b'{"title": "' + b"x" * 1_000_001 + b'"}'
    response = await portal.client.post("/api/lots", content=big, headers=OPERATOR)
    assert (response.status_code, response.json()["code"]) == (413, "payload_too_large")
    assert (await portal.op("GET", "/api/lots")).json()["count"] == 0


@pytest.mark.parametrize(
    "content",
    [
        b"{",
        b"[]",
        b"NaN",
        b'{"title": 1e999}',
        b'{"title": "\\ud800"}',  # a lone surrogate is not text
    ],
)
async def test_malformed_input_is_a_4xx_problem_never_a_traceback(
    portal: Portal, content: bytes
) -> None:
    response = await portal.client.post("/api/lots", content=content, headers=OPERATOR)
    assert 400 <= response.status_code < 500
    assert "Traceback" not in response.text


async def test_text_with_control_characters_is_stored_and_served_safely(portal: Portal) -> None:
    title = "Lot with a \x00 NUL and a \x1b escape"
    content = json.dumps({**LOT, "title": title}).encode("ascii")
    created = await portal.client.post("/api/lots", content=content, headers=OPERATOR)
    assert created.status_code == 201
    lot = json.loads(created.content)["lot"]
    assert lot["title"] == title
    await portal.op("POST", f"/api/lots/{lot['_id']}/publish")
    listed = await portal.producer("GET", "/api/lots/external", params={"search": "nul and"})
    assert listed.json()["count"] == 1
