"""``Retry-After`` (RFC 9110 §10.2.3): the one parser, for the client and the webhook sender."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

__all__ = ["parse_retry_after"]


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` value asks to wait: delta-seconds, or an HTTP date measured
    from ``now`` (never negative). None when it is absent or unusable (not a number, a date
    without a zone); capping it is the caller's policy."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())
