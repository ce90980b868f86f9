"""The dispatcher loop in the app's lifespan: woken by new events, asleep until the next due time,
stopped with the app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from lotflow.reference.buyer import BuyerSettings, create_app

from lotflow.clock import FakeClock, SystemClock
from tests.reference.buyer.portal import Portal, Receiver, buyer_env

pytestmark = pytest.mark.anyio

DEADLINE = 10.0  # seconds; a wait not met by then is a failure, never a sleep


@dataclass
class WaitingReceiver(Receiver):
    """A receiver that lets a test wait for its n-th request."""

    seen: asyncio.Condition = field(default_factory=asyncio.Condition)

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = super().handle(request)
        asyncio.get_running_loop().create_task(self._announce())
        return response

    async def _announce(self) -> None:
        async with self.seen:
            self.seen.notify_all()

    async def wait_for(self, count: int) -> None:
        async with self.seen:
            await asyncio.wait_for(
                self.seen.wait_for(lambda: len(self.requests) >= count), DEADLINE
            )


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[Portal, WaitingReceiver]]:
    """The portal on the real clock with its dispatcher running in the lifespan."""
    receiver = WaitingReceiver()
    settings = BuyerSettings.from_env(buyer_env(tmp_path, LOTFLOW_WEBHOOK_BACKOFF_BASE="0.05"))
    transport = httpx.MockTransport(receiver.handle)
    app = create_app(settings, clock=SystemClock(), webhook_transport=transport)
    async with app.router.lifespan_context(app):
        asgi = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=asgi, base_url="http://buyer.test") as client:
            yield Portal(app, FakeClock(), receiver, client), receiver


async def test_a_new_event_wakes_the_dispatcher(live: tuple[Portal, WaitingReceiver]) -> None:
    portal, receiver = live
    await portal.published_lot()
    await receiver.wait_for(1)
    await portal.published_lot()  # the loop is asleep now (nothing due): the commit wakes it
    await receiver.wait_for(2)
    assert receiver.events() == ["lot.published", "lot.published"]


async def test_a_retry_is_sent_when_it_falls_due(live: tuple[Portal, WaitingReceiver]) -> None:
    portal, receiver = live
    receiver.script[:] = [503, 500]
    await portal.published_lot()
    await receiver.wait_for(3)  # within 0.05 s, then 0.1 s: nothing but the due time wakes it
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    await asyncio.wait_for(_until_delivered(portal), DEADLINE)


async def _until_delivered(portal: Portal) -> None:
    """Poll (under the caller's deadline) until the last attempt is recorded in its thread."""
    while (await portal.deliveries())[0]["status"] != "delivered":
        await asyncio.sleep(0.01)


async def test_the_dispatcher_stops_with_the_app(tmp_path: Path) -> None:
    app = create_app(BuyerSettings.from_env(buyer_env(tmp_path)), clock=SystemClock())
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    await asyncio.wait_for(lifespan.__aexit__(None, None, None), DEADLINE)  # not MAX_WAIT later
