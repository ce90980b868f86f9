"""The webhook tap: forwards each delivery unchanged, records it with the producer's answer,
numbers retries, simulates an outage, and lets a waiter block until a delivery arrives."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from lotflow.clock import FakeClock
from lotflow.engine.tap import Delivery, WebhookLog, WebhookTap
from lotflow.serving import ServerThread

BODY = json.dumps({"event": "lot.published", "lot": {"_id": "l1"}}).encode()
HEADERS = {
    "webhook-id": "msg_1",
    "webhook-timestamp": "1767225600",
    "webhook-signature": "v1,c2lnbmF0dXJl",
    "content-type": "application/json",
}


class Producer:
    """A fake producer that remembers what reached it and answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return httpx.Response(self.status, json={"received": True})


def deliver(tap: WebhookTap, path: str = "/api/webhooks/lots", **headers: str) -> httpx.Response:
    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=tap.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://tap.test") as client:
            return await client.post(path, content=BODY, headers={**HEADERS, **headers})

    return asyncio.run(post())


def test_a_delivery_is_forwarded_unchanged_and_recorded_with_the_answer() -> None:
    producer = Producer(202)
    clock = FakeClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    tap = WebhookTap("http://producer.test/", transport=httpx.MockTransport(producer), clock=clock)
    answer = deliver(tap, "/api/webhooks/lots?source=buyer")
    assert answer.status_code == 202
    assert answer.json() == {"received": True}
    (forwarded,) = producer.seen
    assert str(forwarded.url) == "http://producer.test/api/webhooks/lots?source=buyer"
    assert forwarded.content == BODY
    assert forwarded.headers["webhook-signature"] == "v1,c2lnbmF0dXJl"
    assert forwarded.headers["webhook-id"] == "msg_1"
    (record,) = tap.log.since()
    assert (record.method, record.path, record.body, record.status) == (
        "POST",
        "/api/webhooks/lots",
        BODY,
        202,
    )
    assert record.headers["webhook-signature"] == "v1,c2lnbmF0dXJl"
    assert record.received_at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert (record.event, record.webhook_id, record.attempt) == ("lot.published", "msg_1", 1)
    assert record.delivered
    assert record.forwarded


def test_retries_of_one_webhook_id_are_numbered_as_attempts() -> None:
    tap = WebhookTap("http://producer.test", transport=httpx.MockTransport(Producer(500)))
    deliver(tap)
    deliver(tap)
    deliver(tap, **{"webhook-id": "msg_2"})
    assert [(d.webhook_id, d.attempt, d.delivered) for d in tap.log.since()] == [
        ("msg_1", 1, False),
        ("msg_1", 2, False),
        ("msg_2", 1, False),
    ]


def test_while_down_the_tap_answers_503_and_forwards_nothing() -> None:
    producer = Producer()
    tap = WebhookTap("http://producer.test", transport=httpx.MockTransport(producer))
    tap.down = True
    answer = deliver(tap)
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert "offline" in answer.json()["detail"]
    assert producer.seen == []
    (record,) = tap.log.since()
    assert (record.status, record.delivered, record.forwarded) == (503, False, False)
    tap.down = False
    assert deliver(tap).status_code == 200
    assert tap.log.since(1)[0].attempt == 2


def test_an_unreachable_producer_is_a_502_recorded_as_no_answer() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    tap = WebhookTap("http://producer.test", transport=httpx.MockTransport(refuse))
    assert deliver(tap).status_code == 502
    (record,) = tap.log.since()
    assert (record.status, record.delivered, record.forwarded) == (None, False, True)


def test_marks_split_the_log_into_before_and_after() -> None:
    tap = WebhookTap("http://producer.test", transport=httpx.MockTransport(Producer()))
    deliver(tap)
    mark = tap.log.mark()
    deliver(tap, **{"webhook-id": "msg_9"})
    assert [d.webhook_id for d in tap.log.since(mark)] == ["msg_9"]
    assert len(tap.log) == 2


def _delivery(webhook_id: str) -> Delivery:
    return Delivery(
        "POST", "/x", {"webhook-id": webhook_id}, b"{}", datetime(2026, 1, 1, tzinfo=UTC), 200
    )


def test_a_waiter_wakes_when_the_delivery_it_waits_for_is_recorded() -> None:
    log = WebhookLog()
    waiting = threading.Event()

    def record_later() -> None:
        waiting.wait()
        log.record(_delivery("msg_other"))
        log.record(_delivery("msg_wanted"))

    thread = threading.Thread(target=record_later)
    thread.start()

    def arrived() -> bool:
        waiting.set()
        return any(d.webhook_id == "msg_wanted" for d in log.since())

    assert log.wait_until(arrived, timeout=10)
    thread.join()


def test_a_waiter_gives_up_at_its_deadline() -> None:
    log = WebhookLog()
    assert not log.wait_until(lambda: len(log.since()) > 0, timeout=0.05)


def test_the_tap_forwards_over_real_sockets() -> None:
    """The tap as the runner serves it: uvicorn on a free port, forwarding to another server."""
    received: list[dict[str, object]] = []

    async def receive(request: Request) -> JSONResponse:
        received.append({"path": request.url.path, "body": await request.body()})
        return JSONResponse({"ok": True})

    producer_app = Starlette(routes=[Route("/api/webhooks/{kind}", receive, methods=["POST"])])
    with ServerThread(producer_app) as producer:
        tap = WebhookTap(producer.url)
        with ServerThread(tap.app) as server:
            answer = httpx.post(f"{server.url}/api/webhooks/bids", content=BODY, headers=HEADERS)
    assert answer.status_code == 200
    assert received == [{"path": "/api/webhooks/bids", "body": BODY}]
    assert tap.log.since()[0].delivered
