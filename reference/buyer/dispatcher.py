"""The webhook dispatcher: delivers the outbox, at least once, surviving outages and restarts.

A pass (:meth:`Dispatcher.run_once`) first runs the expiry sweep, then claims the due events
under a lease (``leases``), in batches, as the pipeline has room for them (``pipeline``): each is
sent in a task of its own as soon as one of the ``concurrency`` slots is free, and a slow or
hanging answer holds up its own event only. Every attempt and its consequence is written as soon
as it is in: delivered, failed (410, or the attempt budget spent), or pending again with the delay
chosen by the :class:`~.retry.RetryPolicy`. Each event is attempted at most once per pass. The
spec lets events of one entity arrive out of order (receivers keep the highest ``version``), so
sends are not ordered per entity.

:meth:`Dispatcher.run_forever` starts by freeing the leases of dispatchers of this host that are
gone (a crash: their events go out again at once, under the same webhook-id, instead of after
their lease), then repeats passes without waiting for the sends of the last one, sleeping until
the next due time (an event, a lapsed lease, an expiry) or until a transaction that added events,
or a recorded retry, wakes it. :meth:`Dispatcher.aclose` abandons the sends under way and frees
their leases, so that a restart sends them again at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Coroutine, Sequence
from datetime import datetime
from typing import Any

import httpx
from lotflow.reference.buyer import expiry, leases
from lotflow.reference.buyer.context import BuyerContext
from lotflow.reference.buyer.outbox import DELIVERED, FAILED, PENDING
from lotflow.reference.buyer.pipeline import Pipeline, Sent
from lotflow.reference.buyer.retry import RandomSource, RetryPolicy
from lotflow.reference.buyer.sender import Attempt, WebhookSender
from lotflow.reference.buyer.settings import BuyerSettings
from lotflow.reference.buyer.tables import outbox
from lotflow.reference.buyer.wakeup import WakeSignal
from sqlalchemy import Row, case, func, select
from sqlalchemy.exc import SQLAlchemyError

from lotflow.clock import Clock, isoformat
from lotflow.db import Database
from lotflow.threads import in_thread

__all__ = ["Dispatcher"]

log = logging.getLogger("lotflow.reference.buyer.dispatcher")

MAX_WAIT = 300.0  # a safety net only: the loop is woken by new events and due times
ERROR_WAIT = 5.0
LEASE_MARGIN = 30.0
_LIVE: set[str] = set()  # the instances of the dispatchers alive in this process (leases.Identity)


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
        concurrency: int = 32,  # per destination; nox -s bench: 32 gives larger, cheaper batches
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
        self.concurrency, self.batch_size = concurrency, batch_size
        # an event waits for a slot at most one timeout (a send's), then is sent (another one)
        self.lease_seconds = 2 * settings.webhook_timeout + LEASE_MARGIN
        self.identity = leases.Identity()
        _LIVE.add(self.identity.instance)
        self._pipeline: Pipeline | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._warned = False

    def wake(self) -> None:
        """Make a waiting :meth:`run_forever` look at the outbox now (thread-safe)."""
        self.ctx.signal.notify()

    async def run_once(self) -> int:
        """Sweep expiries, then attempt every event due now once and wait for the results;
        returns the attempts made."""
        made = await self._pass()
        await self._flight().idle()
        return made

    async def run_forever(self, stop_event: asyncio.Event) -> None:
        """Run passes until ``stop_event`` is set, sleeping until the next due time or a wake-up."""
        self.ctx.signal.bind()
        delay = 0.0
        try:
            await in_thread(self.recover)
        except SQLAlchemyError:  # the database refused: their leases lapse on their own
            log.exception("Freeing the leases of stopped dispatchers failed")
        while not stop_event.is_set():
            try:
                if await _unless_stopped(self._pass(), stop_event):
                    delay = await in_thread(self.seconds_until_due)
            except Exception:  # a failing pass must not end delivery: log it, try again later
                log.exception("Webhook dispatch pass failed; retrying in %ss", ERROR_WAIT)
                delay = ERROR_WAIT
            await self.ctx.signal.wait(delay, stop_event)

    def recover(self) -> int:
        """Free the leases of this host's dispatchers that are gone; returns the events freed."""
        now = self.clock.now().timestamp()
        with self.db.write() as conn:
            freed = leases.release_orphans(conn, now, lambda o: self.identity.is_gone(o, _LIVE))
        if freed:
            log.warning("Sending again %s webhook event(s) a stopped dispatcher had claimed", freed)
        return freed

    async def aclose(self) -> None:
        """Abandon the sends under way, free their leases, and close the HTTP clients."""
        _LIVE.discard(self.identity.instance)
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None and asyncio.get_running_loop() is self._loop:
            await pipeline.cancel()
        if self.identity.claims:
            await in_thread(self._release)
        await self.sender.aclose()

    async def _pass(self) -> int:
        """Sweep expiries, then claim and start every event due now; returns the sends started."""
        await in_thread(expiry.sweep, self.ctx)
        base = self.settings.webhook_base_url
        if base is None:
            self._warn_unconfigured()
            return 0
        flight = self._flight()
        made, cursor = 0, 0
        while True:
            free = await flight.room()
            claimed = await in_thread(self._claim, cursor, min(free, self.batch_size), flight.busy)
            for event in claimed.events:
                flight.start(claimed.owner, event)
            if len(claimed.events) < min(free, self.batch_size):
                return made + len(claimed.events)
            made, cursor = made + len(claimed.events), claimed.cursor

    def _flight(self) -> Pipeline:
        """The pipeline of the running loop (made on first use per loop)."""
        loop = asyncio.get_running_loop()
        if self._pipeline is None or self._loop is not loop:
            self._pipeline = Pipeline(self.concurrency, self._send, self._record)
            self._loop = loop
        return self._pipeline

    async def _send(self, event: Row[*tuple[Any, ...]]) -> Attempt:
        base = self.settings.webhook_base_url or ""
        return await self.sender.send(event.id, base + event.path, event.payload.encode())

    def _claim(self, cursor: int, limit: int, busy: list[str]) -> leases.Claim:
        """Lease the next ``limit`` due events (after ``cursor``, except ``busy``)."""
        now = self.clock.now().timestamp()
        owner = self.identity.next_owner()
        with self.db.write() as conn:
            return leases.claim(
                conn,
                now=now,
                cursor=cursor,
                limit=limit,
                lease=self.lease_seconds,
                owner=owner,
                busy=busy,
            )

    def _release(self) -> None:
        with self.db.write() as conn:
            leases.release(conn, self.identity.prefix)

    def _record(self, results: Sequence[Sent]) -> None:
        """Write each attempt and its consequence (for the events the lease still holds)."""
        now = self.clock.now()
        outcomes = [self._outcome(sent, now) for sent in results]
        with self.db.write() as conn:
            kept = leases.record(conn, outcomes)
        for lost in {o.event_id for o in outcomes} - {k.event_id for k in kept}:
            log.warning("Lost the lease of event %s before recording its attempt", lost)
        for failed in (k for k in kept if k.outcome == FAILED):
            log.warning(
                "Webhook event %s failed after %s attempt(s): %s",
                failed.event_id,
                failed.attempt,
                failed.error,
            )
        if any(k.status == PENDING for k in kept):
            self.ctx.signal.notify()  # a retry falls due: the sleeping loop recomputes its wait

    def _outcome(self, sent: Sent, now: datetime) -> leases.Recorded:
        row, result = sent.event, sent.attempt
        number = row.attempts + 1
        decision = self.policy.decide(
            result.status_code, result.retry_after, number, row.give_up_after, now
        )
        status = {DELIVERED: DELIVERED, FAILED: FAILED}.get(decision.outcome, PENDING)
        return leases.Recorded(
            owner=sent.owner,
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


async def _unless_stopped(work: Coroutine[Any, Any, int], stop: asyncio.Event) -> bool:
    """Run ``work`` until it ends or ``stop`` is set (then cancel it); whether it ended."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return False
    task.result()  # its exception, if any, is the pass's
    return True
