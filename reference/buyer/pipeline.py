"""Sends that never wait for each other, and their results written as soon as they are in.

The dispatcher starts each claimed event's send as its own task, at most ``limit`` at a time for
the one destination (the producer portal's base URL). A send that hangs holds its own slot until
the attempt's timeout, and nothing else: the other slots go on, and each finished attempt joins
the next write of results (a group commit: while one write runs in its thread, the results that
arrive meanwhile wait for the next, so a batch costs one transaction whatever its size). Events
sent but not yet recorded are *busy*: the dispatcher never claims them again, even if their lease
lapses before their result is written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lotflow.reference.buyer.sender import Attempt
from sqlalchemy import Row

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
        self._busy: set[str] = set()
        self._results: list[Sent] = []
        self._writer: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()

    @property
    def busy(self) -> list[str]:
        """Ids of the events sent or being sent whose result is not written yet."""
        return list(self._busy)

    async def free_slots(self) -> int:
        """Wait until a slot is free; return how many are."""
        async with self._changed:
            await self._changed.wait_for(lambda: len(self._sending) < self.limit)
            return self.limit - len(self._sending)

    def start(self, owner: str, event: Event) -> None:
        """Start sending ``event`` (claimed by ``owner``) in a task of its own."""
        self._busy.add(event.id)
        task = asyncio.create_task(self._deliver(owner, event))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def idle(self) -> None:
        """Wait until every started send has finished and its result is written."""
        async with self._changed:
            await self._changed.wait_for(lambda: not self._sending and not self._busy)

    async def cancel(self) -> None:
        """Abandon the sends under way (their events stay leased) and write the finished ones."""
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

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
            except Exception:  # the events stay leased; they are sent again when it lapses
                log.exception("Recording %s webhook attempt(s) failed", len(batch))
            finally:
                self._busy.difference_update(sent.event.id for sent in batch)
                await self._announce()

    async def _announce(self) -> None:
        async with self._changed:
            self._changed.notify_all()
