"""The dispatcher over the real network (no transport given: the aiohttp poster) against a real
receiver served by uvicorn: signed, retried after Retry-After, failed answers and refused or
hanging connections recorded exactly as through an httpx transport."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from lotflow.reference.buyer import Dispatcher

from lotflow.clock import FakeClock
from lotflow.serving import ServerThread
from lotflow.signing import WebhookVerifier
from tests.reference.buyer.portal import SECRET, START, FixedRandom, Portal, Receiver, make_app

pytestmark = pytest.mark.anyio


class Scripted:
    """A receiver app answering from a script of (status, headers, body), then 200."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str], bytes]] = []
        self.seen: list[tuple[dict[str, str], bytes]] = []
        self.release = asyncio.Event()  # waited on in the server's loop, set from there
        self.loop: asyncio.AbstractEventLoop | None = None
        self.app = FastAPI()
        self.app.post("/api/webhooks/lots")(self.receive)

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        self.seen.append((dict(request.headers), body))
        status, headers, text = self.script.pop(0) if self.script else (200, {}, b"{}")
        if status == 0:  # hang (until released)
            self.loop = asyncio.get_running_loop()
            await self.release.wait()
        return Response(text, status, headers, media_type="application/json")

    def release_hung(self) -> None:
        """Let a hanging answer go (from the test's thread into the server's loop)."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.release.set)


@pytest.fixture
def scripted() -> Iterator[tuple[Scripted, str]]:
    receiver = Scripted()
    with ServerThread(receiver.app) as server:
        yield receiver, server.url


async def network_portal(tmp_path: Path, url: str, **env: str) -> tuple[Portal, Any]:
    import httpx

    clock = FakeClock(START)
    app = make_app(
        tmp_path, clock, PRODUCER_DASHBOARD_WEBHOOK_URL=url + "/api/webhooks/lots", **env
    )
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b")
    return Portal(app, clock, Receiver(), client), client


def network_dispatcher(portal: Portal) -> Dispatcher:
    return Dispatcher(portal.ctx.db, portal.settings, portal.clock, rng=FixedRandom(1.0))


async def test_signed_deliveries_and_every_kind_of_answer_over_the_network(
    tmp_path: Path, scripted: tuple[Scripted, str]
) -> None:
    receiver, url = scripted
    portal, client = await network_portal(tmp_path, url)
    receiver.script[:] = [(503, {"Retry-After": "30"}, b""), (500, {}, b'{"detail": "boom"}')]
    async with client:
        await portal.published_lot()
        dispatcher = network_dispatcher(portal)
        await dispatcher.run_once()
        first = (await portal.deliveries())[0]
        assert (first["lastStatusCode"], first["lastError"]) == (503, "HTTP 503")
        assert first["nextAttemptAt"] == "2026-11-25T09:00:30.000Z"  # Retry-After honoured
        portal.clock.advance(30)
        await dispatcher.run_once()
        second = (await portal.deliveries())[0]
        assert (second["lastStatusCode"], second["lastError"]) == (
            500,
            'HTTP 500: {"detail": "boom"}',
        )
        portal.clock.advance(3600)
        await dispatcher.run_once()
        assert (await portal.deliveries())[0]["status"] == "delivered"
        await dispatcher.aclose()
    ids = set()
    for headers, body in receiver.seen:
        sent_at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
        ids.add(WebhookVerifier([SECRET], FakeClock(sent_at)).verify(headers, body))
        assert headers["content-type"] == "application/json"
        assert headers["user-agent"].startswith("lotflow-buyer/")
    assert ids == {json.loads(receiver.seen[0][1])["eventId"]}


async def test_a_refused_connection_is_an_attempt_that_failed(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    portal, client = await network_portal(tmp_path, url)
    async with client:
        await portal.published_lot()
        dispatcher = network_dispatcher(portal)
        await dispatcher.run_once()
        delivery = (await portal.deliveries())[0]
        assert (delivery["status"], delivery["attempts"], delivery["lastStatusCode"]) == (
            "pending",
            1,
            None,
        )
        assert "ClientConnectorError" in delivery["lastError"]
        await dispatcher.aclose()


async def test_a_hanging_receiver_is_timed_out(
    tmp_path: Path, scripted: tuple[Scripted, str]
) -> None:
    receiver, url = scripted
    receiver.script[:] = [(0, {}, b"")]
    portal, client = await network_portal(tmp_path, url, LOTFLOW_WEBHOOK_TIMEOUT="0.2")
    async with client:
        await portal.published_lot()
        dispatcher = network_dispatcher(portal)
        await asyncio.wait_for(dispatcher.run_once(), 10)
        delivery = (await portal.deliveries())[0]
        assert (delivery["status"], delivery["lastError"]) == ("pending", "timed out after 0.2s")
        await dispatcher.aclose()
    receiver.release_hung()
