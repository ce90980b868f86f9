"""Short synchronous handlers run inline on the event loop with group commit, on SQLite.

A short SQLite transaction costs less than the hand-off to a worker thread (under the GIL a
thread would not run it sooner), and its commit costs more than its statements. So on SQLite a
synchronous handler that only touches the database runs inline on the event loop inside
``Database.inline_writes``: the writes of every request handled in one turn of the loop commit
together, and each answer waits for that commit. When another thread of the process (the buyer's
webhook dispatcher) is writing, the handler goes to the threadpool and waits there instead of on
the loop. Elsewhere (PostgreSQL) handlers run in the threadpool, one transaction each.

Only for handlers that never wait on the network: one that calls another party would block every
request behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lotflow.db import Database
from lotflow.http import Handler, OperationRequest, Reply
from lotflow.threads import in_thread

__all__ = ["inline"]


def inline(db: Database, handler: Callable[[OperationRequest], Any]) -> Handler:
    """``handler`` (synchronous) as an async handler run as the module says (as it is, off
    SQLite: the app builder runs it in the threadpool)."""
    if not db.is_sqlite:
        return handler

    async def inline_grouped(request: OperationRequest) -> Reply:
        with db.inline_writes() as member:
            if member is not None:
                try:
                    reply, failure = handler(request), None
                except Exception as exc:  # noqa: BLE001 - re-raised once earlier writes commit
                    reply, failure = None, exc
        if member is None:
            reply = await in_thread(handler, request)
        else:
            await member.committed()
            if failure is not None:
                raise failure
        if not isinstance(reply, Reply):
            raise TypeError(f"handler {handler!r} returned {reply!r}, not a Reply")
        return reply

    return inline_grouped
