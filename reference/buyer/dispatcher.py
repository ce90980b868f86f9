"""Delivers outbox events to the producer portal: signed, retried, never lost.

Due events are claimed with a lease (an event claimed by a sender that crashed becomes due again
when its lease runs out), sent with Standard Webhooks headers (the same webhook-id on every
attempt, a fresh timestamp and signature each time), and every attempt is recorded. A 2xx
delivers; 410 fails at once; anything else is retried with exponential backoff and full jitter
(429/503 no earlier than Retry-After, capped) until the last attempt, which marks it failed.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from anyio import to_thread
from lotflow.reference.buyer.context import BuyerContext
from sqlalchemy import Row, func, select, update

from lotflow.clock import isoformat
from lotflow.signing import legacy_bearer_headers, signature_headers

SENDERS = 4  # several small connection pools: one shared AsyncClient is slow under concurrency
CONCURRENCY = 16
BATCH = 64
LEASE_SECONDS = 60.0
SWEEP_INTERVAL = 5.0


@dataclass
class _Result:
    row: Row[Any]
    started_at: datetime
    duration_ms: float
    status_code: int | None
    error: str | None
    retry_after: float | None


class Dispatcher:
    """Sends due outbox events. ``run_once`` for tests and tools, ``run_forever`` in the app."""

    def __init__(
        self,
        ctx: BuyerContext,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.ctx = ctx
        self._transport = transport
        self._rng = rng or random.Random()
        self._clients: list[httpx.AsyncClient] = []
        self._turn = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    # ---------------------------------------------------------------- driving
    async def run_once(self) -> int:
        """Deliver every event due now; return how many attempts were made."""
        made = 0
        while rows := await to_thread.run_sync(self._claim):
            semaphore = asyncio.Semaphore(CONCURRENCY)
            results = await asyncio.gather(*(self._send(row, semaphore) for row in rows))
            await to_thread.run_sync(self._record, results)
            made += len(results)
        return made

    async def run_forever(self, stop: asyncio.Event) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        while not stop.is_set():
            self._wake.clear()
            await self.run_once()
            await to_thread.run_sync(self.sweep)
            timeout = await to_thread.run_sync(self._seconds_to_next_due)
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            _, pending = await asyncio.wait(
                waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in pending:
                waiter.cancel()

    def wake(self) -> None:
        """Thread-safe: new events were committed."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
        self._clients.clear()

    # ---------------------------------------------------------------- claiming and recording
    def _claim(self) -> list[Row[Any]]:
        if not self.ctx.settings.webhook_base_url:
            return []
        outbox, now = self.ctx.tables.outbox, self.ctx.clock.now().timestamp()
        with self.ctx.db.write() as conn:
            due = (
                outbox.c.status == "pending",
                outbox.c.next_attempt_at <= now,
                outbox.c.lease_until <= now,
            )
            rows = list(
                conn.execute(
                    select(outbox)
                    .where(*due)
                    .order_by(outbox.c.next_attempt_at, outbox.c.created_at)
                    .limit(BATCH)
                )
            )
            if rows:
                ids = [r.id for r in rows]
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(ids))
                    .values(lease_until=now + LEASE_SECONDS)
                )
        return rows

    def _record(self, results: list[_Result]) -> None:
        outbox, attempts = self.ctx.tables.outbox, self.ctx.tables.attempts
        with self.ctx.db.write() as conn:
            for result in results:
                attempt = result.row.attempts + 1
                outcome, next_at = self._outcome(result, attempt)
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id == result.row.id)
                    .values(
                        status={"delivered": "delivered", "failed": "failed"}.get(
                            outcome, "pending"
                        ),
                        attempts=attempt,
                        next_attempt_at=next_at,
                        lease_until=0.0,
                        last_status_code=result.status_code,
                        last_error=result.error,
                        delivered_at=isoformat(self.ctx.clock.now())
                        if outcome == "delivered"
                        else None,
                    )
                )
                conn.execute(
                    attempts.insert().values(
                        event_id=result.row.id,
                        attempt=attempt,
                        started_at=isoformat(result.started_at),
                        duration_ms=result.duration_ms,
                        status_code=result.status_code,
                        outcome=outcome,
                        error=result.error,
                    )
                )

    def _outcome(self, result: _Result, attempt: int) -> tuple[str, float]:
        now = self.ctx.clock.now().timestamp()
        code = result.status_code
        if code is not None and 200 <= code < 300:
            return "delivered", now
        if code == 410 or attempt >= self.ctx.settings.max_attempts:
            return "failed", now
        return "retry", now + self.backoff(
            attempt, result.retry_after if code in (429, 503) else None
        )

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before the next attempt: full jitter over base·2^(n-1), capped; Retry-After
        wins."""
        settings = self.ctx.settings
        if retry_after is not None:
            return min(max(retry_after, 0.0), settings.backoff_cap)
        ceiling = min(settings.backoff_cap, settings.backoff_base * 2 ** (attempt - 1))
        return self._rng.uniform(0, ceiling)

    def _seconds_to_next_due(self) -> float:
        outbox = self.ctx.tables.outbox
        with self.ctx.db.read() as conn:
            soonest = conn.execute(
                select(func.min(outbox.c.next_attempt_at)).where(outbox.c.status == "pending")
            ).scalar()
        if soonest is None or not self.ctx.settings.webhook_base_url:
            return SWEEP_INTERVAL
        return min(max(soonest - self.ctx.clock.now().timestamp(), 0.0), SWEEP_INTERVAL)

    # ---------------------------------------------------------------- sending
    def _client(self) -> httpx.AsyncClient:
        if not self._clients:
            limits = httpx.Limits(
                max_connections=CONCURRENCY // SENDERS + 1,
                max_keepalive_connections=CONCURRENCY // SENDERS + 1,
            )
            self._clients = [
                httpx.AsyncClient(transport=self._transport, limits=limits) for _ in range(SENDERS)
            ]
        self._turn = (self._turn + 1) % len(self._clients)
        return self._clients[self._turn]

    def _headers(self, event_id: str, body: bytes) -> dict[str, str]:
        settings = self.ctx.settings
        headers = {"content-type": "application/json", "user-agent": "lotflow-reference-buyer"}
        if settings.webhook_auth == "legacy-bearer":
            return headers | legacy_bearer_headers(settings.webhook_secrets[0])
        return headers | signature_headers(settings.webhook_secrets, event_id, body, self.ctx.clock)

    async def _send(self, row: Row[Any], semaphore: asyncio.Semaphore) -> _Result:
        async with semaphore:
            body = row.payload.encode()
            started, tick = self.ctx.clock.now(), self.ctx.clock.monotonic()
            url = self.ctx.settings.webhook_base_url + row.path
            try:
                response = await self._client().post(
                    url,
                    content=body,
                    headers=self._headers(row.id, body),
                    timeout=self.ctx.settings.attempt_timeout,
                )
            except httpx.HTTPError as exc:
                return _Result(
                    row,
                    started,
                    self._elapsed(tick),
                    None,
                    f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__,
                    None,
                )
            ok = 200 <= response.status_code < 300
            error = None if ok else f"HTTP {response.status_code}: {response.text[:300]}"
            retry_after = _retry_after(response.headers.get("retry-after"), started)
            return _Result(
                row, started, self._elapsed(tick), response.status_code, error, retry_after
            )

    def _elapsed(self, tick: float) -> float:
        return round((self.ctx.clock.monotonic() - tick) * 1000, 3)

    # ---------------------------------------------------------------- timers
    def sweep(self) -> int:
        """Expire open bids and counter-offers whose expiresAt has passed; return how many."""
        from lotflow.reference.buyer.expiry import expire_due

        expired = expire_due(self.ctx)
        if expired:
            self.wake()
        return expired


def _retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return (parsedate_to_datetime(value) - now).total_seconds()
    except (TypeError, ValueError):
        return None
