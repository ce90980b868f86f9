"""SIGTERM stops a lotflow command the way Ctrl-C does.

A CI job stops a background command with ``kill`` (SIGTERM: a job's teardown, a timeout,
``docker stop``), not with Ctrl-C. Left to the default action, the process dies at once: a
scenario run writes no reports, ``serve pair`` leaves its databases behind, a simulator loses its
recording. While :func:`sigterm_interrupts` is active, SIGTERM raises :class:`Terminated` (a
``KeyboardInterrupt``) in the main thread instead, so every clean-up written for Ctrl-C runs, and
:func:`stopped_by` names which of the two it was for the reports.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["EXIT_INTERRUPTED", "Terminated", "sigterm_interrupts", "stopped_by"]

EXIT_INTERRUPTED = 130
"""A command's exit code when Ctrl-C or SIGTERM stopped it (as a shell reports SIGINT)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM asked the command to stop."""


def stopped_by(interrupt: KeyboardInterrupt) -> str:
    """How the command was stopped, as the reports say it: ``SIGTERM`` or ``Ctrl-C``."""
    return "SIGTERM" if isinstance(interrupt, Terminated) else "Ctrl-C"


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    raise Terminated


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` while inside (the main thread only: elsewhere, where
    no handler can be set, nothing changes); the previous handler is back on leaving."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
