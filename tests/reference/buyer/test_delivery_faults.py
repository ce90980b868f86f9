"""Delivery under faults (issue 17): the default retry schedule outlives a day-long outage, a
hanging answer holds up no other event, and a restart sends at once what a dead dispatcher had
claimed, with nothing lost and nothing sent twice after a 2xx."""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from lotflow.reference.buyer import BuyerSettings, Dispatcher, create_app, leases
from lotflow.reference.buyer.retry import window

from lotflow.clock import FakeClock, SystemClock
from lotflow.openapi import load_portal_spec
from tests.reference.buyer.portal import START, FixedRandom, Portal, Receiver, buyer_env

pytestmark = pytest.mark.anyio

DEADLINE = 10.0  # seconds; a wait not met by then is a failure, never a sleep
DAY = timedelta(hours=24)


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll ``check`` until it holds (the caller's deadline bounds it)."""
    while not await check():
        await asyncio.sleep(0.01)


async def statuses(portal: Portal) -> list[str]:
    return sorted(d["status"] for d in await portal.deliveries())


def default_settings(tmp_path: Path) -> BuyerSettings:
    return BuyerSettings.from_env(buyer_env(tmp_path))


# ------------------------------------------------------------------------- the retry window


async def test_an_event_outlives_a_day_long_outage_with_the_default_schedule(
    portal: Portal,
) -> None:
    back_at = START + DAY

    def down_for_a_day(request: httpx.Request) -> httpx.Response:
        if portal.clock.now() < back_at:
            raise httpx.ConnectError("connection refused")
        return portal.receiver.handle(request)

    await portal.published_lot()
    # the shortest delays the jitter can draw: the worst case for the window
    dispatcher = portal.dispatcher(httpx.MockTransport(down_for_a_day), rng=FixedRandom(0.0))
    while (delivery := (await portal.deliveries())[0])["status"] == "pending":
        await dispatcher.run_once()
        due = (await portal.deliveries())[0]["nextAttemptAt"]
        if due is not None:
            portal.clock.set(max(portal.clock.now(), datetime.fromisoformat(due)))
    assert delivery["status"] == "delivered"
    assert portal.receiver.events() == ["lot.published"]
    assert portal.clock.now() >= back_at
    await dispatcher.aclose()


def test_the_spec_states_the_default_schedule_and_its_window(tmp_path: Path) -> None:
    settings = default_settings(tmp_path)
    rules = load_portal_spec("buyer")["webhooks"]["lot.published"]["post"]["description"]
    shortest, longest = window(
        settings.webhook_backoff_base,
        settings.webhook_backoff_cap,
        settings.webhook_max_attempts,
    )
    assert shortest >= DAY.total_seconds()
    text = " ".join(rules.split())
    assert f"up to {settings.webhook_max_attempts} attempts" in text
    assert f"min({settings.webhook_backoff_cap / 3600:g} h, " in text
    assert f"{settings.webhook_backoff_base:g} s x 2^(n-1)" in text
    for seconds in (shortest, longest):
        assert f"{math.floor(seconds / 360) / 10:g} h" in text


# ------------------------------------------------------------------------- head-of-line


def hang_first(
    receiver: Receiver,
) -> tuple[httpx.MockTransport, asyncio.Event, list[httpx.Request]]:
    """A transport whose first request (noted in the list) waits for the event; the others are
    answered at once."""
    release, hung = asyncio.Event(), []

    async def handle(request: httpx.Request) -> httpx.Response:
        if not hung:
            hung.append(request)
            await release.wait()
        return receiver.handle(request)

    return httpx.MockTransport(handle), release, hung


async def test_a_hanging_answer_holds_up_no_other_event_of_the_pass(portal: Portal) -> None:
    for _ in range(3):
        await portal.published_lot()
    transport, release, _hung = hang_first(portal.receiver)
    dispatcher = portal.dispatcher(transport)
    running = asyncio.create_task(dispatcher.run_once())
    await asyncio.wait_for(
        until(lambda: _counted(portal, ["delivered", "delivered", "pending"])), DEADLINE
    )
    assert not running.done()  # the pass still waits for the hanging one, the others are in
    release.set()
    assert await asyncio.wait_for(running, DEADLINE) == 3
    assert await statuses(portal) == ["delivered"] * 3
    await dispatcher.aclose()


async def _counted(portal: Portal, expected: list[str]) -> bool:
    return await statuses(portal) == expected


async def test_a_new_event_goes_out_while_an_earlier_answer_hangs(tmp_path: Path) -> None:
    receiver = Receiver()
    transport, release, hung = hang_first(receiver)
    settings = BuyerSettings.from_env(buyer_env(tmp_path, LOTFLOW_WEBHOOK_TIMEOUT="60"))
    app = create_app(settings, clock=SystemClock(), webhook_transport=transport)
    async with app.router.lifespan_context(app):
        asgi = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=asgi, base_url="http://buyer.test") as client:
            portal = Portal(app, FakeClock(), receiver, client)
            await portal.published_lot()  # its delivery hangs (for up to 60 s)
            await asyncio.wait_for(until(lambda: _arrived(hung)), DEADLINE)
            await portal.published_lot()  # sent and recorded while the first still hangs
            delivered_one = ["delivered", "pending"]
            await asyncio.wait_for(until(lambda: _counted(portal, delivered_one)), DEADLINE)
            assert len(receiver.requests) == 1  # the hanging one is not answered yet
            release.set()
            await asyncio.wait_for(until(lambda: _counted(portal, ["delivered"] * 2)), DEADLINE)
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 2


async def _arrived(requests: list[httpx.Request]) -> bool:
    return bool(requests)


# ------------------------------------------------------------------------- recovery


def dead_pid() -> int:
    """The pid of a process that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def lease_to(portal: Portal, owner: str) -> int:
    """Lease every due event to ``owner`` as a dispatcher would; returns how many."""
    now = portal.clock.now().timestamp()
    with portal.ctx.db.write() as conn:
        claimed = leases.claim(conn, now=now, cursor=0, limit=100, lease=70.0, owner=owner)
    return len(claimed.events)


async def test_a_restart_sends_at_once_what_a_dead_dispatcher_had_claimed(portal: Portal) -> None:
    for _ in range(2):
        await portal.published_lot()
    host = leases.Identity().host
    assert lease_to(portal, f"{host}:{dead_pid()}:abc123:1") == 2
    successor = portal.dispatcher()
    assert await successor.run_once() == 0  # leased: without recovery they wait for 70 s
    assert successor.recover() == 2
    assert await successor.run_once() == 2
    assert await statuses(portal) == ["delivered"] * 2
    assert sorted(portal.receiver.events()) == ["lot.published"] * 2
    await successor.aclose()


@pytest.mark.parametrize(
    "owner",
    [
        pytest.param(lambda host, live: f"{host}:{os.getppid()}:abc123:1", id="live-process"),
        pytest.param(lambda host, live: f"0000beef:{dead_pid()}:abc123:1", id="other-host"),
        pytest.param(lambda host, live: f"{live.identity.prefix}1", id="live-dispatcher"),
        pytest.param(lambda host, live: "9f8e7d6c5b4a3210", id="unnamed-owner"),
    ],
)
async def test_leases_of_dispatchers_that_may_still_run_are_kept(
    portal: Portal, owner: Callable[[str, Dispatcher], str]
) -> None:
    await portal.published_lot()
    alive = portal.dispatcher()
    lease_to(portal, owner(leases.Identity().host, alive))
    successor = portal.dispatcher()
    assert successor.recover() == 0
    assert await successor.run_once() == 0
    assert portal.receiver.requests == []
    await successor.aclose()
    await alive.aclose()


async def test_the_dispatcher_frees_on_start_up_what_a_dead_one_had_claimed(
    tmp_path: Path,
) -> None:
    receiver = Receiver()
    settings = default_settings(tmp_path)
    app = create_app(
        settings, clock=SystemClock(), webhook_transport=httpx.MockTransport(receiver.handle)
    )
    host = leases.Identity().host
    asgi = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=asgi, base_url="http://buyer.test") as client:
        portal = Portal(app, FakeClock(), receiver, client)
        await portal.published_lot()  # no dispatcher runs yet: the event waits in the outbox
        portal.clock.set(datetime.now(tz=START.tzinfo) + timedelta(seconds=1))
        assert lease_to(portal, f"{host}:{dead_pid()}:abc123:1") == 1
        async with app.router.lifespan_context(app):
            await asyncio.wait_for(until(lambda: _counted(portal, ["delivered"])), DEADLINE)
    assert receiver.events() == ["lot.published"]


async def test_closing_a_dispatcher_frees_the_events_it_was_sending(portal: Portal) -> None:
    await portal.published_lot()
    arrived = asyncio.Event()

    async def hang(_request: httpx.Request) -> httpx.Response:
        arrived.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    stopping = portal.dispatcher(httpx.MockTransport(hang))
    running = asyncio.create_task(stopping.run_once())
    await asyncio.wait_for(arrived.wait(), DEADLINE)
    await stopping.aclose()
    running.cancel()
    successor = portal.dispatcher()
    assert await successor.run_once() == 1  # at once, not after the lease
    assert await statuses(portal) == ["delivered"]
    await successor.aclose()
