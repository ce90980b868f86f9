"""Sends that never wait for each other, and their results written as soon as they are in.

The dispatcher hands each claimed event to the pipeline, which sends it in a task of its own, at
most ``limit`` at a time for the one destination (the producer portal's base URL); up to ``limit``
more wait their turn, so that claims come in batches (a claim costs one transaction whatever its
size). A send that hangs holds its own slot until the attempt's timeout, and nothing else: the
other slots go on, and the events waiting take the next free slot; each finished attempt joins
the next write of results (a group commit: while one write runs in its thread, the results that
arrive meanwhile wait for the next, so a batch costs one transaction whatever its size). Events
sent but not yet recorded are *busy*: the dispatcher never claims them again, even if their lease
lapses before their result is written.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lotflow.reference.buyer.sender import Attempt
from sqlalchemy import Row
from sqlalchemy.exc import SQLAlchemyError

from lotflow.threads import in_thread

__all__ = ["Pipeline", "Sent"]

log = logging.getLogger("lotflow.reference.buyer.dispatcher")

Event = Row[*tuple[Any, ...]]


@dataclass(frozen=True)
class Sent:
    """One finished attempt of one event claimed by ``owner``."""

    owner: str
    event: Event
    attempt: Attempt


class Pipeline:
    """At most ``limit`` sends at once, each recorded (by ``record``, in a thread) when done."""

    def __init__(
        self,
        limit: int,
        send: Callable[[Event], Awaitable[Attempt]],
        record: Callable[[Sequence[Sent]], None],
    ) -> None:
        self.limit = limit
        self._send, self._record = send, record
        self._sending: set[asyncio.Task[None]] = set()
        self._waiting: deque[tuple[str, Event]] = deque()
        self._busy: set[str] = set()
        self._results: list[Sent] = []
        self._writer: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()

    @property
    def busy(self) -> list[str]:
        """Ids of the events sent or being sent whose result is not written yet."""
        return list(self._busy)

    async def room(self) -> int:
        """Wait until an event can be taken (sent now or next); return how many can."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._taken() < 2 * self.limit)
            return 2 * self.limit - self._taken()

    def start(self, owner: str, event: Event) -> None:
        """Send ``event`` (claimed by ``owner``) in a task of its own, as soon as a slot is free."""
        self._busy.add(event.id)
        self._waiting.append((owner, event))
        self._pump()

    def _taken(self) -> int:
        return len(self._sending) + len(self._waiting)

    def _pump(self) -> None:
        """Start waiting sends while slots are free."""
        while self._waiting and len(self._sending) < self.limit:
            owner, event = self._waiting.popleft()
            task = asyncio.create_task(self._deliver(owner, event))
            self._sending.add(task)
            task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._pump()

    async def idle(self) -> None:
        """Wait until every started send has finished and its result is written."""
        async with self._changed:
            await self._changed.wait_for(lambda: not self._taken() and not self._busy)

    async def cancel(self) -> None:
        """Abandon the sends under way and waiting (their events stay leased) and write the
        finished ones."""
        self._busy.difference_update(event.id for _, event in self._waiting)
        self._waiting.clear()
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
        await self._announce()

    async def _deliver(self, owner: str, event: Event) -> None:
        try:
            attempt = await self._send(event)
        except asyncio.CancelledError:
            self._busy.discard(event.id)  # left leased: a restart or the lease's end frees it
            raise
        except Exception:  # a bug, not a failed attempt: leave the event to its lease
            log.exception("Sending webhook event %s failed unexpectedly", event.id)
            self._busy.discard(event.id)
            await self._announce()
            return
        self._results.append(Sent(owner, event, attempt))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        await self._announce()

    async def _write(self) -> None:
        """Write the results that have arrived, batch after batch, until none is left."""
        while self._results:
            batch, self._results = self._results, []
            try:
                await in_thread(self._record, batch)
            except SQLAlchemyError:  # the events stay leased; they are sent again when it lapses
                log.exception("Recording %s webhook attempt(s) failed", len(batch))
            finally:
                self._busy.difference_update(sent.event.id for sent in batch)
                await self._announce()

    async def _announce(self) -> None:
        async with self._changed:
            self._changed.notify_all()
