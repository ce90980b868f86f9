"""The one way lotflow moves blocking work (database calls, file reads) off the event loop.

``in_thread(fn, *args)`` runs ``fn`` in anyio's worker-thread pool, the pool Starlette itself
uses, so a portal's handlers, its dispatcher and its marketplace reads share one bounded set of
threads instead of three (asyncio's default executor, Starlette's, anyio's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, TypeVarTuple, Unpack

import anyio.to_thread

__all__ = ["in_thread"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


async def in_thread(fn: Callable[[Unpack[Ts]], T], *args: *Ts) -> T:
    """``fn(*args)`` in a worker thread; its result, or its exception raised here."""
    return await anyio.to_thread.run_sync(fn, *args)
