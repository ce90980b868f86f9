"""The buyer simulator as a load generator: many signed webhooks, faults and all.

    result = asyncio.run(send_webhooks(simulator, 5000, concurrency=32))
    print(result.per_second, result.answers)

Each webhook is the spec's own lot-event example under a fresh event id, signed with the
simulator's secret, and goes through the simulator's wire like any webhook of the buyer: the
fault plan applies, every attempt is recorded and its answer checked. :class:`SpreadTransport`
spreads sends over a few connection pools (one shared pool spends its time in bookkeeping
under concurrency; see LIBRARY_NOTES.md).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from lotflow.simulators.buyer import BuyerSimulator

from lotflow.ids import new_event_id
from lotflow.openapi import load_portal_spec
from lotflow.signing import signature_headers

__all__ = ["LoadResult", "SpreadTransport", "send_webhooks"]


@dataclass(frozen=True)
class LoadResult:
    """How many webhooks went out, in how long, and the answers (status or error name)."""

    sent: int
    seconds: float
    answers: dict[str, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


class SpreadTransport(httpx.AsyncBaseTransport):
    """Round-robin over ``pools`` HTTP transports of ``per_pool`` connections each."""

    def __init__(self, pools: int = 4, per_pool: int = 8) -> None:
        limits = httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool)
        self._pools = [httpx.AsyncHTTPTransport(limits=limits) for _ in range(pools)]
        self._next = itertools.cycle(self._pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await next(self._next).handle_async_request(request)

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


def _example() -> dict[str, Any]:
    return dict(
        load_portal_spec("buyer")["components"]["schemas"]["LotEventPayload"]["examples"][0]
    )


async def send_webhooks(
    simulator: BuyerSimulator, count: int, *, concurrency: int = 16
) -> LoadResult:
    """Send ``count`` signed lot events to the simulator's producer URL, ``concurrency`` at once."""
    url = f"{simulator.producer_url}/api/webhooks/lots"
    example, slots, answers = _example(), asyncio.Semaphore(concurrency), Counter[str]()

    async def one() -> None:
        event_id = new_event_id()
        body = json.dumps(example | {"eventId": event_id}, separators=(",", ":")).encode()
        headers = signature_headers([simulator.secret], event_id, body, simulator.state.clock)
        request = httpx.Request(
            "POST", url, headers=headers | {"content-type": "application/json"}, content=body
        )
        async with slots:
            try:
                response = await simulator.wire.handle_async_request(request)
                answers[str(response.status_code)] += 1
            except httpx.HTTPError as exc:
                answers[type(exc).__name__] += 1

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    return LoadResult(count, time.perf_counter() - started, dict(answers))
