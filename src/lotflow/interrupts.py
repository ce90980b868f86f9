"""SIGTERM stops a lotflow command the way Ctrl-C does.

A CI job stops a background command with ``kill`` (SIGTERM: a job's teardown, a timeout,
``docker stop``), not with Ctrl-C. Left to the default action, the process dies at once: a
scenario run writes no reports, ``serve pair`` leaves its databases behind, a simulator loses its
recording. While :func:`sigterm_interrupts` is active, SIGTERM is handed to whatever handles
SIGINT at that moment: Python's default (``KeyboardInterrupt``), or the handler ``asyncio.run``
puts in place while it runs (it cancels the main task, so that async code unwinds cleanly
before the interrupt is raised). Every clean-up written for Ctrl-C then runs, and
:func:`stopped_by` names which of the two it was for the reports.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["EXIT_INTERRUPTED", "sigterm_interrupts", "stopped_by"]

EXIT_INTERRUPTED = 130
"""A command's exit code when Ctrl-C or SIGTERM stopped it (as a shell reports SIGINT)."""

_terminated = threading.Event()


def stopped_by() -> str:
    """How the interrupt being handled came, as the reports say it: ``SIGTERM`` or
    ``Ctrl-C``."""
    return "SIGTERM" if _terminated.is_set() else "Ctrl-C"


def _terminate(_signum: int, frame: FrameType | None) -> None:
    _terminated.set()
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)
    else:  # SIGINT ignored (a background job of a script) or not Python's: interrupt anyway
        raise KeyboardInterrupt


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM acts as SIGINT while inside (the main thread only: elsewhere, where no handler
    can be set, nothing changes); the previous handler is back on leaving."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _terminated.clear()
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
