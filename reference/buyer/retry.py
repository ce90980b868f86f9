"""What the sender does with each answer, as the spec's webhook descriptions state it.

2xx: delivered. 410: failed at once (the receiver gave up on this endpoint). 429 and 503: retried
no earlier than ``Retry-After`` (seconds or an HTTP date), capped at the maximum backoff; without
a usable ``Retry-After`` they back off like any failure. Anything else (another status, a timeout,
a connection error): retried with exponential backoff and half jitter, ``uniform(c/2, c)`` for the
ceiling ``c = min(cap, base x 2^(attempt-1))``, until the attempt budget is spent, then failed.

Half jitter (not full jitter) keeps a floor under every delay, so the retry window is a bound, not
an average: with the defaults (base 1 s, cap 6 h, 24 attempts) the 23 delays add up to between
28.5 h and 57.1 h, so an event outlives a day-long outage of its receiver (:func:`window`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from lotflow.retry_after import parse_retry_after

__all__ = ["Decision", "RandomSource", "RetryPolicy", "window"]

DELIVERED, RETRY, FAILED = "delivered", "retry", "failed"
_RETRY_AFTER_STATUSES = (429, 503)


class RandomSource(Protocol):
    """Where the jitter comes from (``random.Random`` in production, a stub in tests)."""

    def random(self) -> float:
        """A float in [0, 1)."""
        ...


@dataclass(frozen=True)
class Decision:
    """The outcome of one attempt and, for a retry, the delay before the next one."""

    outcome: str
    delay: float = 0.0


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff parameters and the jitter source."""

    base: float
    cap: float
    rng: RandomSource = random.Random()  # noqa: RUF009 - one shared source is the point

    def decide(
        self,
        status_code: int | None,
        retry_after: str | None,
        attempt: int,
        give_up_after: int,
        now: datetime,
    ) -> Decision:
        """What to do after attempt ``attempt`` answered ``status_code`` (None: no answer)."""
        if status_code is not None and 200 <= status_code < 300:
            return Decision(DELIVERED)
        if status_code == 410 or attempt >= give_up_after:
            return Decision(FAILED)
        if status_code in _RETRY_AFTER_STATUSES:
            waited = self.retry_after(retry_after, now)
            if waited is not None:
                return Decision(RETRY, waited)
        return Decision(RETRY, self.backoff(attempt))

    def backoff(self, attempt: int) -> float:
        """Half jitter under the exponential ceiling of ``attempt`` (1-based)."""
        return self.ceiling(attempt) * (0.5 + 0.5 * self.rng.random())

    def ceiling(self, attempt: int) -> float:
        """The longest delay after attempt ``attempt``: ``min(cap, base x 2^(attempt-1))``."""
        return min(self.cap, self.base * 2.0 ** min(attempt - 1, 64))

    def retry_after(self, value: str | None, now: datetime) -> float | None:
        """Seconds to wait from a ``Retry-After`` value, capped; None when absent or unusable."""
        waited = parse_retry_after(value, now)
        return None if waited is None else min(waited, self.cap)


def window(base: float, cap: float, attempts: int) -> tuple[float, float]:
    """The shortest and longest time from the first to the last of ``attempts`` attempts."""
    policy = RetryPolicy(base, cap)
    longest = sum(policy.ceiling(n) for n in range(1, attempts))
    return longest / 2, longest
