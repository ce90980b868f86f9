"""Both reference portals in one process, on one injected clock, with the network in the model's
hands: the :class:`~lotflow.explore.pair.Pair` with every control.

Both apps run on one event loop that the caller's thread drives (each call runs the loop until
its answer is ready), so a model's read costs no thread hop. The producer's handlers run in
worker threads (they are blocking), and their calls to the buyer are scheduled back onto the
running loop. The buyer's dispatcher does not run by itself: :meth:`InProcessPair.dispatch`
makes one pass (``Dispatcher.run_once``) through the :class:`ControlledNetwork`. Like
:mod:`lotflow.stack`, this module imports the reference portals (only when a pair is made).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx

from lotflow.client import SpecClient
from lotflow.clock import FakeClock
from lotflow.db import sqlite_url
from lotflow.explore.network import ControlledNetwork, Fault
from lotflow.explore.pair import CONTROLS
from lotflow.openapi import load_portal_spec
from lotflow.stack import BUYER_ORG, PRODUCER_ORGS, Credentials

__all__ = ["InProcessPair", "LoopTransport"]

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SETTLE_PASSES = 2000
SETTLE_STEP = 1.0  # seconds at least per pass: retries due within it share the pass
T = TypeVar("T")


class LoopTransport(httpx.BaseTransport):
    """A blocking transport into an ASGI app served on ``loop``: run from the thread that drives
    the loop (the loop runs until the answer is ready) or from a worker thread while the loop
    runs (the request is scheduled onto it). ``app`` is read per request, so a restarted app is
    used from then on."""

    def __init__(self, app: Callable[[], Any], loop: asyncio.AbstractEventLoop) -> None:
        self._app = app
        self._loop = loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()
        forwarded = httpx.Request(
            request.method, request.url, headers=request.headers, content=content
        )
        return _run(self._loop, _send(httpx.ASGITransport(app=self._app()), forwarded))


class _AppTransport(httpx.AsyncBaseTransport):
    """An async transport into whichever app ``app`` returns now."""

    def __init__(self, app: Callable[[], Any]) -> None:
        self._app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await _send(httpx.ASGITransport(app=self._app()), request)


async def _send(transport: httpx.AsyncBaseTransport, request: httpx.Request) -> httpx.Response:
    response = await transport.handle_async_request(request)
    body = await response.aread()
    return httpx.Response(response.status_code, headers=response.headers, content=body)


def _run(loop: asyncio.AbstractEventLoop, work: Coroutine[Any, Any, T]) -> T:
    if loop.is_running():  # a worker thread of a handler the loop is waiting for
        return asyncio.run_coroutine_threadsafe(work, loop).result()
    return loop.run_until_complete(work)


class InProcessPair:
    """The reference buyer and producer under ``workdir``, on a :class:`FakeClock`;
    ``producer_faults`` names deliberate faults (``lotflow.reference.faults``) built into the
    producer, as ``lotflow serve producer --fault`` does."""

    controls = CONTROLS
    aliases = tuple(PRODUCER_ORGS)
    fault_from_now = False

    def __init__(
        self,
        workdir: Path,
        *,
        clock: FakeClock | None = None,
        max_attempts: int | None = 1000,
        credentials: Credentials | None = None,
        producer_faults: Sequence[str] = (),
    ) -> None:
        self.workdir = workdir
        self.producer_faults = tuple(producer_faults)
        self.clock = clock or FakeClock(START)
        self.credentials = credentials or Credentials()
        self.max_attempts = max_attempts
        self.loop = asyncio.new_event_loop()
        self.producer_app = self._make_producer()
        self.network = ControlledNetwork(_AppTransport(lambda: self.producer_app), self.clock)
        self.log = self.network.log
        self.buyer_app = self._make_buyer()
        self.restarts = 0
        to_buyer = LoopTransport(lambda: self.buyer_app, self.loop)
        to_producer = LoopTransport(lambda: self.producer_app, self.loop)
        c = self.credentials
        self._buyer = _client("buyer", "http://buyer.test", c.buyer_token, to_buyer)
        self._producers = {
            a: _client("producer", "http://producer.test", c.producer_tokens[a], to_producer)
            for a in self.aliases
        }

    # ---------------------------------------------------------------- the portals
    def _make_buyer(self) -> Any:
        from lotflow.reference.buyer.app import create_app
        from lotflow.reference.buyer.settings import BuyerSettings

        c = self.credentials
        env = {
            "LOTFLOW_DATABASE_URL": sqlite_url(self.workdir / "buyer.sqlite3"),
            "PRODUCER_API_KEY": c.api_key,
            "PRODUCER_DASHBOARD_WEBHOOK_URL": "http://producer.test/api/webhooks/lots",
            "PRODUCER_DASHBOARD_WEBHOOK_SECRET": c.webhook_secret,
            "LOTFLOW_BUYER_OPERATORS": json.dumps(
                [{"orgId": c.buyer_org, "name": BUYER_ORG, "token": c.buyer_token}]
            ),
        }
        if self.max_attempts is not None:  # None: the portal's own retry budget
            env["LOTFLOW_WEBHOOK_MAX_ATTEMPTS"] = str(self.max_attempts)
        settings = BuyerSettings.from_env(env)
        return create_app(
            settings, clock=self.clock, dispatcher_enabled=False, webhook_transport=self.network
        )

    def _make_producer(self) -> Any:
        from lotflow.reference.producer.app import create_app
        from lotflow.reference.producer.settings import ProducerSettings

        c = self.credentials
        operators = [
            {"orgId": c.producer_orgs[a], "name": n, "token": c.producer_tokens[a]}
            for a, n in PRODUCER_ORGS.items()
        ]
        env = {
            "LOTFLOW_DATABASE_URL": sqlite_url(self.workdir / "producer.sqlite3"),
            "NEXT_PUBLIC_BUYER_DASHBOARD_URL": "http://buyer.test",
            "BUYER_API_KEY": c.api_key,
            "BUYER_WEBHOOK_SECRET": c.webhook_secret,
            "LOTFLOW_PRODUCER_OPERATORS": json.dumps(operators),
            "LOTFLOW_BUYER_RETRIES": "0",
        }
        to_buyer = LoopTransport(lambda: self.buyer_app, self.loop)
        return create_app(
            ProducerSettings.from_env(env),
            clock=self.clock,
            buyer_transport=to_buyer,
            faults=self.producer_faults,
        )

    # ---------------------------------------------------------------- calls
    def buyer(self, operation: str, **parts: Any) -> httpx.Response:
        return self._buyer.call(operation, **parts)

    def producer(self, alias: str, operation: str, **parts: Any) -> httpx.Response:
        return self._producers[alias].call(operation, **parts)

    # ---------------------------------------------------------------- controls
    def dispatch(self, fault: Fault) -> None:
        self.network.fault = fault
        try:
            self.loop.run_until_complete(self.buyer_app.state.dispatcher.run_once())
        finally:
            self.network.fault = Fault.NONE
        if self.network.kill_requested:  # the dispatcher isolates each send's failure, so the
            self.network.kill_requested = False  # kill lands when the pass ends
            self.restart_buyer()

    def release(self, index: int) -> str | None:
        held = self.loop.run_until_complete(self.network.release(index))
        return held.event if held else None

    def set_receiver(self, up: bool) -> None:
        self.network.receiver_down = not up

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def restart_buyer(self) -> None:
        """The buyer process dies (its leases stay until they lapse) and starts again on the same
        database: whatever it committed must still be delivered."""
        self._dispose_buyer()
        self.buyer_app = self._make_buyer()
        self.restarts += 1

    def pending(self) -> int:
        """Events the buyer still owes (its delivery log, read through its API)."""
        answer = self.buyer("listWebhookDeliveries", query={"status": "pending", "limit": 1})
        return int(answer.json()["count"])

    def settle(self) -> bool:
        """Receiver up, every held copy delivered, then passes (time moved to each next due
        attempt) until the buyer owes nothing."""
        self.set_receiver(True)
        while self.release(0) is not None:
            pass
        self.dispatch(Fault.NONE)  # also the expiry sweep: what the clock made due is owed too
        for _ in range(SETTLE_PASSES):
            if not self.pending():
                return True
            wait = self.buyer_app.state.dispatcher.seconds_until_due()
            self.clock.advance(max(wait, SETTLE_STEP))
            self.dispatch(Fault.NONE)
        return not self.pending()

    def close(self) -> None:
        for client in (self._buyer, *self._producers.values()):
            client.close()
        self._dispose_buyer()
        self.producer_app.state.context.close_buyer()
        self.producer_app.state.context.db.dispose()
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()

    def _dispose_buyer(self) -> None:
        self.loop.run_until_complete(self.buyer_app.state.dispatcher.aclose())
        self.buyer_app.state.buyer.db.dispose()


def _client(
    portal: Literal["buyer", "producer"], base: str, token: str, transport: httpx.BaseTransport
) -> SpecClient:
    return SpecClient(
        load_portal_spec(portal),
        base,
        headers={"Authorization": f"Bearer {token}"},
        retries=0,
        transport=transport,
    )
