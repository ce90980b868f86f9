"""Webhook delivery that loses nothing: signed, retried with the same id, resumed after a crash."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from lotflow.reference.buyer.app import create_app
from lotflow.reference.buyer.dispatcher import Dispatcher
from lotflow.reference.buyer.settings import BuyerSettings

from lotflow.clock import FakeClock
from lotflow.signing import WebhookVerifier
from tests.fixtures.buyer import SECRET, START, Buyer, Receiver, buyer_env

pytestmark = pytest.mark.anyio


async def test_every_event_arrives_signed_once_per_event_id(buyer: Buyer) -> None:
    lot = await buyer.published_lot()
    bid = await buyer.bid(lot)
    await buyer.op("PUT", f"/api/bids/{bid['_id']}", json={"status": "accepted"})
    await buyer.dispatcher.run_once()
    verifier = WebhookVerifier([SECRET], buyer.clock)
    ids = [verifier.verify(r.headers, r.content) for r in buyer.receiver.requests]
    assert len(ids) == len(set(ids)) == 4
    assert sorted(buyer.receiver.events()) == [
        "bid.accepted",
        "contract.created",
        "lot.published",
        "lot.updated",
    ]
    paths = {json.loads(r.content)["event"]: r.url.path for r in buyer.receiver.requests}
    assert paths == {
        "lot.published": "/api/webhooks/lots",
        "lot.updated": "/api/webhooks/lots",
        "bid.accepted": "/api/webhooks/bids",
        "contract.created": "/api/webhooks/contracts",
    }
    assert all(
        json.loads(r.content)["eventId"] == r.headers["webhook-id"] for r in buyer.receiver.requests
    )
    assert await buyer.dispatcher.run_once() == 0


async def test_500_twice_then_200_delivers_on_the_third_attempt_with_the_same_id(
    buyer: Buyer,
) -> None:
    buyer.receiver.script[:] = [500, 500, 200]
    await buyer.published_lot()
    for _ in range(3):
        await buyer.dispatcher.run_once()
        buyer.clock.advance(3600)
    ids = {r.headers["webhook-id"] for r in buyer.receiver.requests}
    assert len(buyer.receiver.requests) == 3
    assert len(ids) == 1
    stamps = [r.headers["webhook-timestamp"] for r in buyer.receiver.requests]
    assert len(set(stamps)) == 3  # each attempt is signed afresh
    delivery = (await buyer.op("GET", f"/api/webhooks/deliveries/{ids.pop()}")).json()["delivery"]
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 3)
    assert [a["outcome"] for a in delivery["attemptLog"]] == ["retry", "retry", "delivered"]
    assert [a["statusCode"] for a in delivery["attemptLog"]] == [500, 500, 200]


async def test_410_fails_the_event_at_once_and_an_operator_can_redeliver_it(buyer: Buyer) -> None:
    buyer.receiver.script[:] = [410]
    await buyer.published_lot()
    await buyer.dispatcher.run_once()
    delivery = (await buyer.op("GET", "/api/webhooks/deliveries")).json()["deliveries"][0]
    assert (delivery["status"], delivery["attempts"], delivery["lastStatusCode"]) == (
        "failed",
        1,
        410,
    )
    again = await buyer.op("POST", f"/api/webhooks/deliveries/{delivery['_id']}/redeliver")
    assert again.status_code == 202
    assert (
        await buyer.op("POST", f"/api/webhooks/deliveries/{delivery['_id']}/redeliver")
    ).status_code == 409
    await buyer.dispatcher.run_once()
    final = (await buyer.op("GET", f"/api/webhooks/deliveries/{delivery['_id']}")).json()[
        "delivery"
    ]
    assert (final["status"], final["attempts"]) == ("delivered", 2)
    assert {r.headers["webhook-id"] for r in buyer.receiver.requests} == {delivery["_id"]}


async def test_retry_after_is_honoured(buyer: Buyer) -> None:
    buyer.receiver.script[:] = [503]
    buyer.receiver.headers[503] = {"Retry-After": "120"}
    await buyer.published_lot()
    await buyer.dispatcher.run_once()
    buyer.clock.advance(119)
    await buyer.dispatcher.run_once()
    assert len(buyer.receiver.requests) == 1
    buyer.clock.advance(1)
    await buyer.dispatcher.run_once()
    assert len(buyer.receiver.requests) == 2


async def test_the_last_attempt_marks_the_event_failed(tmp_path: Path) -> None:
    clock, receiver = FakeClock(START), Receiver(script=[500] * 10)
    settings = BuyerSettings.from_env(buyer_env(tmp_path, LOTFLOW_WEBHOOK_MAX_ATTEMPTS="3"))
    app = create_app(
        settings,
        clock=clock,
        dispatcher_enabled=False,
        webhook_transport=httpx.MockTransport(receiver.handle),
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://b"
    ) as client:
        buyer = Buyer(app, clock, receiver, client)
        await buyer.published_lot()
        for _ in range(5):
            await buyer.dispatcher.run_once()
            clock.advance(3600)
        delivery = (await buyer.op("GET", "/api/webhooks/deliveries")).json()["deliveries"][0]
    assert (delivery["status"], delivery["attempts"]) == ("failed", 3)
    assert len(receiver.requests) == 3
    await app.state.dispatcher.aclose()


async def test_a_dispatcher_that_died_mid_delivery_is_resumed_by_the_next_one(buyer: Buyer) -> None:
    await buyer.published_lot()
    crashed = buyer.dispatcher._claim()  # claimed (leased) but never sent: the process died here
    assert len(crashed) == 1
    successor = Dispatcher(
        buyer.app.state.context, transport=httpx.MockTransport(buyer.receiver.handle)
    )
    assert await successor.run_once() == 0  # still leased to the dead dispatcher
    buyer.clock.advance(61)
    assert await successor.run_once() == 1
    assert buyer.receiver.events() == ["lot.published"]
    await successor.aclose()


async def test_pending_events_survive_a_restart_of_the_portal(tmp_path: Path) -> None:
    clock, receiver = FakeClock(START), Receiver()
    env = buyer_env(tmp_path)
    first = create_app(BuyerSettings.from_env(env), clock=clock, dispatcher_enabled=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=first), base_url="http://b"
    ) as client:
        await Buyer(first, clock, receiver, client).published_lot()
    first.state.context.db.dispose()
    second = create_app(
        BuyerSettings.from_env(env),
        clock=clock,
        dispatcher_enabled=False,
        webhook_transport=httpx.MockTransport(receiver.handle),
    )
    assert await second.state.dispatcher.run_once() == 1
    assert receiver.events() == ["lot.published"]
    await second.state.dispatcher.aclose()


async def test_the_legacy_profile_sends_a_static_bearer_instead_of_signatures(
    tmp_path: Path,
) -> None:
    clock, receiver = FakeClock(START), Receiver()
    settings = BuyerSettings.from_env(buyer_env(tmp_path, LOTFLOW_WEBHOOK_AUTH="legacy-bearer"))
    app = create_app(
        settings,
        clock=clock,
        dispatcher_enabled=False,
        webhook_transport=httpx.MockTransport(receiver.handle),
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://b"
    ) as client:
        await Buyer(app, clock, receiver, client).published_lot()
    await app.state.dispatcher.run_once()
    request = receiver.requests[0]
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert "webhook-signature" not in request.headers
    await app.state.dispatcher.aclose()


async def test_an_unreachable_receiver_is_retried_and_logged(buyer: Buyer) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    dispatcher = Dispatcher(buyer.app.state.context, transport=httpx.MockTransport(refuse))
    await buyer.published_lot()
    await dispatcher.run_once()
    delivery = (await buyer.op("GET", "/api/webhooks/deliveries")).json()["deliveries"][0]
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
    assert "ConnectError" in delivery["lastError"]
    assert delivery["nextAttemptAt"]
    await dispatcher.aclose()


def test_backoff_grows_exponentially_with_full_jitter_and_respects_the_cap(tmp_path: Path) -> None:

    app = create_app(
        BuyerSettings.from_env(buyer_env(tmp_path, LOTFLOW_WEBHOOK_BACKOFF_CAP="10")),
        clock=FakeClock(START),
        dispatcher_enabled=False,
    )
    top = Dispatcher(app.state.context, rng=_Fixed(1.0))
    assert [top.backoff(n) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert Dispatcher(app.state.context, rng=_Fixed(0.5)).backoff(3) == 2.0
    assert top.backoff(2, retry_after=600) == 10.0


class _Fixed:
    """A jitter source that always draws the same fraction of the interval."""

    def __init__(self, fraction: float) -> None:
        self.fraction = fraction

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.fraction
