"""Webhook delivery that loses nothing: every event signed and delivered, retried under the same
webhook-id, failed only when the contract says so, resumed after a crash or a restart."""

from __future__ import annotations

import asyncio
import json
import logging
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
from lotflow.reference.buyer.retry import RetryPolicy

from lotflow.clock import FakeClock
from lotflow.openapi import load_portal_spec, validator_for
from lotflow.signing import WebhookVerifier
from tests.reference.buyer.portal import SECRET, START, FixedRandom, Portal, Receiver, make_app

pytestmark = pytest.mark.anyio

SPEC = load_portal_spec("buyer")
PAYLOADS = {
    "/api/webhooks/lots": "LotEventPayload",
    "/api/webhooks/bids": "BidEventPayload",
    "/api/webhooks/contracts": "ContractEventPayload",
}
STORY_EVENTS = [
    *("lot.published", "lot.updated", "bid.counter_offer", "bid.accepted", "contract.created"),
    *("bid.rejected", "lot.updated", "lot.published", "lot.deleted"),
]


async def whole_story(portal: Portal) -> None:
    """Every kind of event: a lot published and updated, a bid countered, two bids decided."""
    lot = await portal.published_lot()
    await portal.op("PATCH", f"/api/lots/{lot['_id']}", json={"title": "Updated"})
    first, second = await portal.bid(lot, "ext-1"), await portal.bid(lot, "ext-2")
    counter = {"volume": {"amount": 1000, "unit": "gallons"}, "pricePerUnit": 6.4}
    await portal.op("POST", f"/api/bids/{first['_id']}/counter", json=counter)
    await portal.op("PUT", f"/api/bids/{second['_id']}", json={"status": "accepted"})
    withdrawn = await portal.published_lot()
    await portal.op("DELETE", f"/api/lots/{withdrawn['_id']}")


async def settings_app(tmp_path: Path, **env: str) -> tuple[Portal, httpx.AsyncClient]:
    """A portal with extra settings (the caller closes the client)."""
    clock = FakeClock(START)
    app = make_app(tmp_path, clock, **env)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b")
    return Portal(app, clock, Receiver(), client), client


async def test_every_event_arrives_once_signed_on_its_path_in_the_shape_of_its_schema(
    portal: Portal,
) -> None:
    await whole_story(portal)
    dispatcher = portal.dispatcher()
    assert await dispatcher.run_once() == 9
    verifier = WebhookVerifier([SECRET], portal.clock)
    requests = portal.receiver.requests
    ids = [verifier.verify(request.headers, request.content) for request in requests]
    assert len(ids) == len(set(ids)) == 9
    assert sorted(portal.receiver.events()) == sorted(STORY_EVENTS)
    for request, body in zip(requests, portal.receiver.bodies(), strict=True):
        assert body["eventId"] == request.headers["webhook-id"]
        assert request.headers["content-type"] == "application/json"
        assert str(request.url).startswith("http://producer.test/api/webhooks/")
        assert (
            request.url.path == SPEC["webhooks"][body["event"]]["post"]["x-lotflow-delivery-path"]
        )
        schema = {"$ref": f"#/components/schemas/{PAYLOADS[request.url.path]}"}
        assert validator_for(SPEC, schema).errors(body) == [], body["event"]
    assert await dispatcher.run_once() == 0
    assert {d["status"] for d in await portal.deliveries()} == {"delivered"}
    await dispatcher.aclose()


async def test_500_twice_then_200_delivers_on_the_third_attempt_with_the_same_id(
    portal: Portal,
) -> None:
    portal.receiver.script[:] = [500, 500, 200]
    await portal.published_lot()
    dispatcher = portal.dispatcher()
    await dispatcher.run_once()
    delivery = (await portal.deliveries())[0]
    assert (delivery["status"], delivery["attempts"], delivery["lastStatusCode"]) == (
        "pending",
        1,
        500,
    )
    assert delivery["nextAttemptAt"] == "2026-11-25T09:00:01.000Z"  # 1s x 2^0, full jitter drew 1.0
    assert await dispatcher.run_once() == 0  # not due yet
    portal.clock.advance(1)
    await dispatcher.run_once()
    portal.clock.advance(2)  # 1s x 2^1
    await dispatcher.run_once()
    requests = portal.receiver.requests
    assert len(requests) == 3
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    assert (
        len({r.headers["webhook-timestamp"] for r in requests}) == 3
    )  # each attempt signed afresh
    verifier = WebhookVerifier([SECRET], portal.clock)
    assert verifier.verify(requests[-1].headers, requests[-1].content) == delivery["_id"]
    url = f"/api/webhooks/deliveries/{delivery['_id']}"
    final = (await portal.op("GET", url)).json()["delivery"]
    assert (final["status"], final["attempts"], final["deliveredAt"]) == (
        "delivered",
        3,
        "2026-11-25T09:00:03.000Z",
    )
    log = [(a["statusCode"], a["outcome"]) for a in final["attemptLog"]]
    assert log == [(500, "retry"), (500, "retry"), (200, "delivered")]
    await dispatcher.aclose()


async def test_410_fails_at_once_and_an_operator_can_redeliver_under_the_same_id(
    portal: Portal,
) -> None:
    portal.receiver.script[:] = [410]
    await portal.published_lot()
    dispatcher = portal.dispatcher()
    await dispatcher.run_once()
    delivery = (await portal.deliveries())[0]
    assert (delivery["status"], delivery["attempts"], delivery["nextAttemptAt"]) == (
        "failed",
        1,
        None,
    )
    url = f"/api/webhooks/deliveries/{delivery['_id']}/redeliver"
    queued = await portal.op("POST", url)
    assert (queued.status_code, queued.json()["delivery"]["status"]) == (202, "pending")
    again = await portal.op("POST", url)
    assert (again.status_code, again.json()["code"]) == (409, "delivery_pending")
    await dispatcher.run_once()
    final = (await portal.op("GET", f"/api/webhooks/deliveries/{delivery['_id']}")).json()
    assert (final["delivery"]["status"], final["delivery"]["attempts"]) == ("delivered", 2)
    assert {r.headers["webhook-id"] for r in portal.receiver.requests} == {delivery["_id"]}
    assert (await portal.op("POST", url)).status_code == 202  # a delivered event can go again
    await dispatcher.aclose()


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_in_seconds_is_honoured(portal: Portal, status: int) -> None:
    portal.receiver.script[:] = [status]
    portal.receiver.headers[status] = {"Retry-After": "120"}
    await portal.published_lot()
    dispatcher = portal.dispatcher()
    await dispatcher.run_once()
    portal.clock.advance(119)
    assert await dispatcher.run_once() == 0
    portal.clock.advance(1)
    assert await dispatcher.run_once() == 1
    assert (await portal.deliveries())[0]["status"] == "delivered"
    await dispatcher.aclose()


async def test_retry_after_as_an_http_date_is_honoured_and_capped(tmp_path: Path) -> None:
    portal, client = await settings_app(tmp_path, LOTFLOW_WEBHOOK_BACKOFF_CAP="600")
    portal.receiver.script[:] = [503, 503]
    date = format_datetime(START.replace(minute=5), usegmt=True)
    portal.receiver.headers[503] = {"Retry-After": date}
    async with client:
        await portal.published_lot()
        dispatcher = portal.dispatcher()
        await dispatcher.run_once()
        assert (await portal.deliveries())[0]["nextAttemptAt"] == "2026-11-25T09:05:00.000Z"
        portal.clock.advance(300)
        portal.receiver.headers[503] = {"Retry-After": "86400"}
        await dispatcher.run_once()
        capped = (await portal.deliveries())[0]["nextAttemptAt"]
        assert capped == "2026-11-25T09:15:00.000Z"  # 600 s later, the cap
        await dispatcher.aclose()


async def test_the_last_attempt_marks_the_event_failed(tmp_path: Path) -> None:
    portal, client = await settings_app(tmp_path, LOTFLOW_WEBHOOK_MAX_ATTEMPTS="3")
    portal.receiver.script[:] = [500] * 10
    async with client:
        await portal.published_lot()
        dispatcher = portal.dispatcher()
        for _ in range(5):
            await dispatcher.run_once()
            portal.clock.advance(3600)
        delivery = (await portal.deliveries())[0]
        assert (delivery["status"], delivery["attempts"]) == ("failed", 3)
        assert len(portal.receiver.requests) == 3
        url = f"/api/webhooks/deliveries/{delivery['_id']}"
        log = (await portal.op("GET", url)).json()["delivery"]["attemptLog"]
        assert [a["outcome"] for a in log] == ["retry", "retry", "failed"]
        await dispatcher.aclose()


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ConnectError("connection refused"), "ConnectError"),
        (httpx.ReadTimeout("read timed out"), "ReadTimeout"),
    ],
)
async def test_transport_failures_are_retried_and_logged(
    portal: Portal, failure: Exception, expected: str
) -> None:
    def fail(_request: httpx.Request) -> httpx.Response:
        raise failure

    await portal.published_lot()
    dispatcher = portal.dispatcher(httpx.MockTransport(fail))
    await dispatcher.run_once()
    delivery = (await portal.deliveries())[0]
    assert (delivery["status"], delivery["attempts"], delivery["lastStatusCode"]) == (
        "pending",
        1,
        None,
    )
    assert expected in delivery["lastError"]
    await dispatcher.aclose()


async def test_a_receiver_slower_than_the_timeout_is_an_attempt_that_failed(tmp_path: Path) -> None:
    portal, client = await settings_app(tmp_path, LOTFLOW_WEBHOOK_TIMEOUT="0.05")
    release = asyncio.Event()

    async def hang(_request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200)

    async with client:
        await portal.published_lot()
        dispatcher = portal.dispatcher(httpx.MockTransport(hang))
        await dispatcher.run_once()
        delivery = (await portal.deliveries())[0]
        assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
        assert "timed out" in delivery["lastError"]
        release.set()
        await dispatcher.aclose()


async def test_a_dispatcher_that_dies_mid_pass_is_resumed_by_a_new_one(portal: Portal) -> None:
    for _ in range(3):
        await portal.published_lot()
    arrived = asyncio.Event()

    async def hang(_request: httpx.Request) -> httpx.Response:
        arrived.set()
        await asyncio.Event().wait()  # the process dies while waiting for the answer
        raise AssertionError("unreachable")

    crashed = portal.dispatcher(httpx.MockTransport(hang), concurrency=1, batch_size=2)
    doomed = asyncio.create_task(crashed.run_once())
    await arrived.wait()
    doomed.cancel()
    successor = portal.dispatcher()  # a new dispatcher over the same database
    assert await successor.run_once() == 1  # the event nobody had claimed
    assert {d["status"] for d in await portal.deliveries()} == {"pending", "delivered"}
    portal.clock.advance(crashed.lease_seconds)  # the dead dispatcher's lease lapses
    assert await successor.run_once() == 2
    assert {d["status"] for d in await portal.deliveries()} == {"delivered"}
    assert sorted(portal.receiver.events()) == ["lot.published"] * 3
    await successor.aclose()
    await crashed.aclose()  # only the test's clean-up: its send still hangs in this loop


async def test_pending_events_survive_a_restart_of_the_portal(tmp_path: Path) -> None:
    clock, receiver = FakeClock(START), Receiver()
    first = make_app(tmp_path, clock)
    transport = httpx.ASGITransport(app=first)
    async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
        await Portal(first, clock, receiver, client).published_lot()
    first.state.buyer.db.dispose()
    second = make_app(tmp_path, clock)
    transport = httpx.ASGITransport(app=second)
    async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
        dispatcher = Portal(second, clock, receiver, client).dispatcher()
        assert await dispatcher.run_once() == 1
        assert receiver.events() == ["lot.published"]
        await dispatcher.aclose()


async def test_the_legacy_profile_sends_the_secret_as_a_bearer_instead_of_signatures(
    tmp_path: Path,
) -> None:
    portal, client = await settings_app(tmp_path, LOTFLOW_WEBHOOK_AUTH="legacy-bearer")
    async with client:
        await portal.published_lot()
        dispatcher = portal.dispatcher()
        await dispatcher.run_once()
        request = portal.receiver.requests[0]
        assert request.headers["authorization"] == f"Bearer {SECRET}"
        assert "webhook-signature" not in request.headers
        assert request.headers["webhook-id"] == json.loads(request.content)["eventId"]
        await dispatcher.aclose()


async def test_during_a_rotation_every_secret_signs(tmp_path: Path) -> None:
    secrets = f"{SECRET} new-plain-secret"
    portal, client = await settings_app(tmp_path, PRODUCER_DASHBOARD_WEBHOOK_SECRET=secrets)
    async with client:
        await portal.published_lot()
        dispatcher = portal.dispatcher()
        await dispatcher.run_once()
        request = portal.receiver.requests[0]
        assert len(request.headers["webhook-signature"].split()) == 2
        for secret in (SECRET, "new-plain-secret"):
            WebhookVerifier([secret], portal.clock).verify(request.headers, request.content)
        await dispatcher.aclose()


async def test_without_a_webhook_url_events_stay_pending_and_a_warning_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    portal, client = await settings_app(tmp_path, PRODUCER_DASHBOARD_WEBHOOK_URL="")
    async with client:
        await portal.published_lot()
        dispatcher = portal.dispatcher()
        with caplog.at_level(logging.WARNING):
            assert await dispatcher.run_once() == 0
        assert "PRODUCER_DASHBOARD_WEBHOOK_URL" in caplog.text
        delivery = (await portal.deliveries())[0]
        assert (delivery["status"], delivery["url"]) == ("pending", "/api/webhooks/lots")
        assert portal.receiver.requests == []
        await dispatcher.aclose()


def test_backoff_is_exponential_with_half_jitter_and_capped() -> None:
    top = RetryPolicy(base=1.0, cap=10.0, rng=FixedRandom(1.0))
    assert [top.backoff(n) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert RetryPolicy(base=1.0, cap=10.0, rng=FixedRandom(0.5)).backoff(4) == 6.0
    assert RetryPolicy(base=1.0, cap=10.0, rng=FixedRandom(0.0)).backoff(4) == 4.0


@pytest.mark.parametrize(
    ("status", "retry_after", "attempt", "expected"),
    [
        (200, None, 1, ("delivered", 0.0)),
        (204, None, 8, ("delivered", 0.0)),
        (410, None, 1, ("failed", 0.0)),
        (500, None, 8, ("failed", 0.0)),
        (500, None, 3, ("retry", 4.0)),
        (401, None, 1, ("retry", 1.0)),
        (None, None, 2, ("retry", 2.0)),
        (503, "30", 1, ("retry", 30.0)),
        (429, "99999", 1, ("retry", 60.0)),
        (503, "soon", 2, ("retry", 2.0)),
        (500, "30", 1, ("retry", 1.0)),  # Retry-After counts for 429 and 503 only
    ],
)
def test_what_the_sender_does_with_each_answer(
    status: int | None, retry_after: str | None, attempt: int, expected: tuple[str, float]
) -> None:
    policy = RetryPolicy(base=1.0, cap=60.0, rng=FixedRandom(1.0))
    decision = policy.decide(status, retry_after, attempt, give_up_after=8, now=START)
    assert (decision.outcome, decision.delay) == expected
