"""Time, injected. The only module of lotflow that reads the real clock.

Everything that needs "now" takes a :class:`Clock`: :class:`SystemClock` in production,
:class:`FakeClock` in tests, so retries, replay windows and expiry are tested without waiting.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from lotflow.errors import ConfigError

__all__ = ["Clock", "FakeClock", "SystemClock", "isoformat"]

DEFAULT_FAKE_START = datetime(2026, 1, 1, tzinfo=UTC)


@runtime_checkable
class Clock(Protocol):
    """A source of time: wall-clock instants and a monotonic counter for durations."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (only differences are meaningful)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()


class FakeClock:
    """A clock that moves only when told to; ``monotonic()`` moves with it.

    ``start`` defaults to 2026-01-01T00:00:00Z. Thread-safe, so a server thread and a test can
    share one.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _as_utc(start or DEFAULT_FAKE_START)
        self._monotonic = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The fake current instant."""
        return self._now

    def monotonic(self) -> float:
        """Seconds elapsed on this clock since it was made (never decreases)."""
        return self._monotonic

    def advance(self, seconds: float | timedelta) -> None:
        """Move time forward; usable as an injected ``sleep`` function."""
        step = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        if step < 0:
            raise ConfigError(f"FakeClock.advance needs a non-negative duration, got {step}s.")
        with self._lock:
            self._now += timedelta(seconds=step)
            self._monotonic += step

    def set(self, dt: datetime) -> None:
        """Jump to ``dt``; the monotonic counter moves forward by the gap, never backwards."""
        target = _as_utc(dt)
        with self._lock:
            self._monotonic += max(0.0, (target - self._now).total_seconds())
            self._now = target


def _as_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ConfigError(f"A clock needs a timezone-aware datetime, got naive {dt.isoformat()}.")
    return dt.astimezone(UTC)


def isoformat(moment: datetime | float) -> str:
    """``moment`` (an aware datetime, or Unix seconds) as ISO-8601 in UTC with millisecond
    precision and ``Z``, like JavaScript's ``toISOString()`` (today's portals): fixed width, so
    the strings sort chronologically. The one formatter of instants on the wire and in store."""
    if isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, UTC)
    return _as_utc(moment).isoformat(timespec="milliseconds")[:-6] + "Z"  # "+00:00" → "Z"
