"""The webhook dispatcher: delivers the outbox, at least once, surviving outages and restarts.

A pass (:meth:`Dispatcher.run_once`) first runs the expiry sweep, then claims the due events in
batches under a lease (``leases``), sends each batch concurrently (``sender``), and records every
attempt and its consequence in one transaction: delivered, failed (410, or the attempt budget
spent), or pending again with the delay chosen by the :class:`~.retry.RetryPolicy`. Each event is
attempted at most once per pass. :meth:`Dispatcher.run_forever` repeats passes, sleeping until the
next due time (an event, a lapsed lease, an expiry) or until a transaction that added events wakes
it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
from lotflow.reference.buyer import expiry, leases
from lotflow.reference.buyer.context import BuyerContext
from lotflow.reference.buyer.outbox import DELIVERED, FAILED, PENDING
from lotflow.reference.buyer.retry import RandomSource, RetryPolicy
from lotflow.reference.buyer.sender import Attempt, WebhookSender
from lotflow.reference.buyer.settings import BuyerSettings
from lotflow.reference.buyer.tables import outbox
from lotflow.reference.buyer.wakeup import WakeSignal
from sqlalchemy import Row, case, func, select

from lotflow.clock import Clock, isoformat
from lotflow.db import Database
from lotflow.threads import in_thread

__all__ = ["Dispatcher"]

log = logging.getLogger("lotflow.reference.buyer.dispatcher")

MAX_WAIT = 300.0  # a safety net only: the loop is woken by new events and due times
ERROR_WAIT = 5.0
LEASE_MARGIN = 30.0


class Dispatcher:
    """Delivers the buyer's webhook events from the outbox of ``db``."""

    def __init__(
        self,
        db: Database,
        settings: BuyerSettings,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        rng: RandomSource | None = None,
        signal: WakeSignal | None = None,
        concurrency: int = 16,
        clients: int = 4,
        batch_size: int = 64,
    ) -> None:
        self.ctx = BuyerContext(settings, db, clock, signal=signal or WakeSignal())
        self.settings, self.db, self.clock = settings, db, clock
        base, cap = settings.webhook_backoff_base, settings.webhook_backoff_cap
        self.policy = RetryPolicy(base, cap, rng or random.Random())
        self.sender = WebhookSender(
            settings, clock, transport, concurrency=concurrency, clients=clients
        )
        self.batch_size = batch_size
        rounds = math.ceil(batch_size / concurrency)
        self.lease_seconds = settings.webhook_timeout * rounds + LEASE_MARGIN
        self._warned = False

    def wake(self) -> None:
        """Make a waiting :meth:`run_forever` look at the outbox now (thread-safe)."""
        self.ctx.signal.notify()

    async def run_once(self) -> int:
        """Sweep expiries, then attempt every event due now once; returns the attempts made."""
        await in_thread(expiry.sweep, self.ctx)
        base = self.settings.webhook_base_url
        if base is None:
            self._warn_unconfigured()
            return 0
        made, cursor = 0, 0
        while True:
            claimed = await in_thread(self._claim, cursor)
            if not claimed.events:
                return made
            sends = (
                self.sender.send(e.id, base + e.path, e.payload.encode("ascii"))
                for e in claimed.events
            )
            results = await asyncio.gather(*sends)
            await in_thread(self._record, claimed, results)
            made, cursor = made + len(claimed.events), claimed.cursor

    async def run_forever(self, stop_event: asyncio.Event) -> None:
        """Run passes until ``stop_event`` is set, sleeping until the next due time or a wake-up."""
        self.ctx.signal.bind()
        while not stop_event.is_set():
            try:
                await self.run_once()
                delay = await in_thread(self.seconds_until_due)
            except Exception:  # a failing pass must not end delivery: log it, try again later
                log.exception("Webhook dispatch pass failed; retrying in %ss", ERROR_WAIT)
                delay = ERROR_WAIT
            await self.ctx.signal.wait(delay, stop_event)

    async def aclose(self) -> None:
        """Close the HTTP clients."""
        await self.sender.aclose()

    def _claim(self, cursor: int) -> leases.Claim:
        """Lease the next batch of due events (after ``cursor``) for this pass."""
        now = self.clock.now().timestamp()
        with self.db.write() as conn:
            return leases.claim(
                conn, now=now, cursor=cursor, limit=self.batch_size, lease=self.lease_seconds
            )

    def _record(self, claimed: leases.Claim, results: Sequence[Attempt]) -> None:
        """Write each attempt and its consequence (for the events the lease still holds)."""
        now = self.clock.now()
        pairs = zip(claimed.events, results, strict=True)
        outcomes = [self._outcome(row, result, now) for row, result in pairs]
        with self.db.write() as conn:
            kept = leases.record(conn, claimed.owner, outcomes)
        for lost in {o.event_id for o in outcomes} - {k.event_id for k in kept}:
            log.warning("Lost the lease of event %s before recording its attempt", lost)
        for failed in (k for k in kept if k.outcome == FAILED):
            log.warning(
                "Webhook event %s failed after %s attempt(s): %s",
                failed.event_id,
                failed.attempt,
                failed.error,
            )

    def _outcome(
        self, row: Row[*tuple[Any, ...]], result: Attempt, now: datetime
    ) -> leases.Recorded:
        number = row.attempts + 1
        decision = self.policy.decide(
            result.status_code, result.retry_after, number, row.give_up_after, now
        )
        status = {DELIVERED: DELIVERED, FAILED: FAILED}.get(decision.outcome, PENDING)
        return leases.Recorded(
            event_id=row.id,
            attempt=number,
            status=status,
            next_attempt_at=now.timestamp() + decision.delay,
            delivered_at=isoformat(now) if status == DELIVERED else None,
            started_at=result.started_at,
            duration_ms=result.duration_ms,
            status_code=result.status_code,
            outcome=decision.outcome,
            error=result.error,
        )

    def seconds_until_due(self) -> float:
        """Seconds until the next event, lapsed lease or expiry is due (``MAX_WAIT`` at most)."""
        now = self.clock.now().timestamp()
        due: list[float] = []
        with self.db.read() as conn:
            if self.settings.webhook_base_url is not None:
                later = case(
                    (outbox.c.lease_until > outbox.c.next_attempt_at, outbox.c.lease_until),
                    else_=outbox.c.next_attempt_at,
                )
                pending = select(func.min(later)).where(outbox.c.status == PENDING)
                event_due = conn.execute(pending).scalar()
                if event_due is not None:
                    due.append(float(event_due))
            stamp = expiry.next_expiry(conn)
        if stamp is not None:
            due.append(datetime.fromisoformat(stamp).timestamp())
        return min([MAX_WAIT, *(max(0.0, when - now) for when in due)])

    def _warn_unconfigured(self) -> None:
        if self._warned:
            return
        self._warned = True
        with self.db.read() as conn:
            waiting = conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.status == PENDING)
            ).scalar()
        log.warning(
            "PRODUCER_DASHBOARD_WEBHOOK_URL is not set: webhook events stay pending in the outbox "
            "(%s now) and are delivered once the URL is configured and the portal restarted.",
            waiting,
        )
