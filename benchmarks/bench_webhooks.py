"""Webhook figures: the dispatcher's rate and unloaded latency to a local receiver, and the
reference producer's receivers against a bare endpoint doing only the signature check.

Rate: ``events`` events are queued, then the dispatcher (in this process, on the given database)
delivers them to the ``receiver`` server process, as fast as it can, pass after pass; deliveries/s
is events over the time until none is pending. Latency: with the dispatcher running as in a portal
(``run_forever``, woken by each commit), one event is committed every ``gap`` seconds; a
delivery's latency is from just after its commit to its arrival at the receiver (both read the
same wall clock; the receiver notes arrivals and answers them on ``GET /arrivals``).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from benchkit import EVENT_UNIQUE, ORG, UNIQUE, Load, buyer_env, run_load, summary

LOT = {
    "title": "HEFA-SPK SAF, 500,000 gal, Rotterdam FOB, March 2027",
    "description": "Neat HEFA-SPK from used cooking oil, blended to ASTM D7566 at delivery.",
    "type": "HEFA-SPK",
    "volume": {"amount": 500000, "unit": "gallons"},
    "pricing": {"price": 3250000, "currency": "USD", "pricePerUnit": 6.5, "paymentTerms": "Net 30"},
    "delivery": {
        "deliveryDate": "2027-03-15T00:00:00Z",
        "deliveryLocation": "Rotterdam, NL",
        "incoterms": "FOB",
    },
    "compliance": {
        "standards": ["ISCC-EU", "CORSIA"],
        "ghgReduction": 80,
        "sustainabilityScore": 92,
    },
    "airlineName": "Nordic Air",
}
EVENT_LOT = {
    "_id": "6750a1c2e4b0f1a2b3c4d5e6",
    "orgId": ORG,
    "status": "published",
    "version": 2,
    "createdAt": "2026-11-25T09:00:00.000Z",
    "updatedAt": "2026-11-25T09:00:00.000Z",
    **LOT,
}


@dataclass(frozen=True)
class Portal:
    """A buyer's database and dispatcher pieces, made in the running process."""

    db: Any
    ctx: Any
    settings: Any

    @classmethod
    def open(cls, database_url: str, receiver_url: str) -> Portal:
        from lotflow.reference.buyer import BuyerSettings
        from lotflow.reference.buyer.context import BuyerContext
        from lotflow.reference.buyer.tables import metadata

        from lotflow.clock import SystemClock
        from lotflow.db import Database

        env = buyer_env(database_url, receiver_url + "/api/webhooks/lots")
        settings = BuyerSettings.from_env(env)
        db = Database(settings.database_url)
        db.create_all(metadata)
        return cls(db, BuyerContext(settings, db, SystemClock()), settings)

    def dispatcher(self, **options: Any) -> Any:
        from lotflow.reference.buyer import Dispatcher

        from lotflow.clock import SystemClock

        return Dispatcher(self.db, self.settings, SystemClock(), signal=self.ctx.signal, **options)

    def enqueue(self, count: int) -> list[str]:
        """``count`` lot.updated events in one transaction; their ids."""
        with self.ctx.transaction() as tx:
            parts = {"lot": EVENT_LOT, "organization": tx.organization(EVENT_LOT)}
            return [tx.enqueue("lot.updated", ORG, parts) for _ in range(count)]

    def pending(self) -> int:
        from lotflow.reference.buyer.outbox import PENDING
        from lotflow.reference.buyer.tables import outbox
        from sqlalchemy import func, select

        with self.db.read() as conn:
            waiting = select(func.count()).select_from(outbox).where(outbox.c.status == PENDING)
            return int(conn.execute(waiting).scalar_one())


async def delivery_rate(
    database_url: str, receiver_url: str, events: int, **options: Any
) -> tuple[float, float]:
    """Signed deliveries/s of a dispatcher (``options``: its keyword arguments), and the CPU
    milliseconds this process (every thread) spent per delivery."""
    portal = Portal.open(database_url, receiver_url)
    portal.enqueue(events)
    dispatcher = portal.dispatcher(**options)
    began, cpu = time.perf_counter(), time.process_time()
    while await dispatcher.run_once():
        pass
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    await dispatcher.aclose()
    left = portal.pending()
    portal.db.dispose()
    if left:
        raise RuntimeError(f"{left} events were not delivered")
    return events / elapsed, 1000 * cpu / events


async def delivery_latency(
    database_url: str, receiver_url: str, events: int, gap: float
) -> dict[str, Any]:
    """p50/p99 from commit to arrival, one event every ``gap`` seconds (an unloaded portal)."""
    from lotflow.threads import in_thread

    portal = Portal.open(database_url, receiver_url)
    dispatcher, stop = portal.dispatcher(), asyncio.Event()
    running = asyncio.create_task(dispatcher.run_forever(stop))
    committed: dict[str, float] = {}
    began = time.perf_counter()
    for _ in range(events):
        (event_id,) = await in_thread(portal.enqueue, 1)
        committed[event_id] = time.time()
        await asyncio.sleep(gap)
    arrivals = await _arrivals(receiver_url, set(committed), deadline=30.0)
    elapsed = time.perf_counter() - began
    stop.set()
    await running
    await dispatcher.aclose()
    portal.db.dispose()
    return summary([arrivals[i] - committed[i] for i in committed], elapsed)


async def _arrivals(receiver_url: str, ids: set[str], deadline: float) -> dict[str, float]:
    """The receiver's arrival times of ``ids``, once all have arrived (polled)."""
    until = time.perf_counter() + deadline
    async with httpx.AsyncClient(timeout=30) as client:
        while time.perf_counter() < until:
            arrivals = (await client.get(receiver_url + "/arrivals")).json()
            if ids <= set(arrivals):
                return {i: float(arrivals[i]) for i in ids}
            await asyncio.sleep(0.05)
    raise RuntimeError("some events did not arrive within the deadline")


def receiver_load(url: str, body: str, duration: float, concurrency: int) -> Load:
    """Signed lot.published deliveries, each a new event about a new lot."""
    headers = {"content-type": "application/json", "user-agent": "lotflow-bench"}
    return Load("POST", url + "/api/webhooks/lots", headers, body, duration, concurrency, sign=True)


def receiver_body() -> str:
    """A lot.published body whose event id and lot id the load makes fresh for each request."""
    lot = EVENT_LOT | {"_id": "6750a1c2e4b0f1" + UNIQUE}
    body = {
        "event": "lot.published",
        "eventId": EVENT_UNIQUE,
        "timestamp": "2026-11-25T09:30:00.000Z",
        "lot": lot,
        "organization": {"_id": ORG, "name": "Nordic Air"},
    }
    return json.dumps(body, separators=(",", ":"))


def receivers_round(urls: dict[str, str], duration: float, concurrency: int) -> dict[str, Any]:
    """One sample of each receiver (bare-hmac and producer)."""
    body = receiver_body()
    return {
        role: run_load(receiver_load(url, body, duration, concurrency), url)
        for role, url in urls.items()
    }
