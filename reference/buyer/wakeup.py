"""A wake-up signal from request threads to the dispatcher's event loop.

A transaction that adds webhook events (or an expiry time) calls :meth:`WakeSignal.notify` after
it commits; the dispatcher waits on :meth:`WakeSignal.wait` with a timeout computed from the next
due time, so it neither polls nor misses work.
"""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["WakeSignal"]


class WakeSignal:
    """Thread-safe notify, awaited by one event loop."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def bind(self) -> None:
        """Attach to the running event loop (the dispatcher's)."""
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wake the waiting loop; callable from any thread, a no-op before :meth:`bind`."""
        loop, event = self._loop, self._event
        if loop is None or event is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
            loop.call_soon_threadsafe(event.set)

    async def wait(self, timeout: float, stop: asyncio.Event) -> None:
        """Return when notified, when ``stop`` is set, or after ``timeout`` seconds."""
        if self._event is None:
            self.bind()
        assert self._event is not None
        if self._event.is_set() or stop.is_set():
            self._event.clear()
            return
        waiters = {asyncio.ensure_future(self._event.wait()), asyncio.ensure_future(stop.wait())}
        try:
            await asyncio.wait(
                waiters, timeout=max(timeout, 0.0), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waiters:
                waiter.cancel()
            self._event.clear()
