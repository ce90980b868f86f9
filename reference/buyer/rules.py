"""Business rules a schema cannot state, each answered 422 with field-level detail.

- Pricing: ``price`` is the total and must equal ``volume.amount x pricePerUnit`` within 0.01
  (``inconsistent_pricing``).
- A bid's or counter-offer's volume uses the lot's unit (``unit_mismatch``) and does not exceed
  the lot's amount (``volume_exceeds_lot``).
- Times: an ``expiresAt`` is normalised to UTC so that expiry compares instants, not strings.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lotflow.reference.common import shapes
from lotflow.reference.common.store import Doc

from lotflow.errors import FieldError, RuleError

__all__ = [
    "PRICE_TOLERANCE",
    "check",
    "expiry_stamp",
    "pricing_errors",
    "stamp",
    "total_price",
    "volume_errors",
]

PRICE_TOLERANCE = 0.01

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)


def check(errors: list[tuple[str, FieldError]]) -> None:
    """Raise one ``RuleError`` (a 422) for every broken rule; its ``code`` is the first rule's."""
    if errors:
        raise RuleError([error for _, error in errors], code=errors[0][0])


def pricing_errors(
    amount: float, pricing: Doc, at: str = "/pricing"
) -> list[tuple[str, FieldError]]:
    """``price`` against ``amount x pricePerUnit``."""
    expected = amount * pricing["pricePerUnit"]
    if abs(pricing["price"] - expected) <= PRICE_TOLERANCE + 1e-9 * max(1.0, abs(expected)):
        return []
    message = (
        f"must equal volume.amount x pricePerUnit = {amount} x {pricing['pricePerUnit']} = "
        f"{round(expected, 2)} (within {PRICE_TOLERANCE}); got {pricing['price']}"
    )
    return [("inconsistent_pricing", FieldError(f"{at}/price", message))]


def total_price(amount: float, price_per_unit: float, at: str) -> float:
    """The total for a volume, to the cent; 422 when it exceeds what the contract can carry."""
    total = round(amount * price_per_unit, 2)
    most = shapes.bound("buyer", "Money", "maximum")
    if total > most:
        message = f"makes a total of {total}, above the maximum of {most}"
        raise RuleError([FieldError(at, message)], code="price_out_of_range")
    return total


def volume_errors(volume: Doc, lot: Doc, at: str = "/volume") -> list[tuple[str, FieldError]]:
    """A bid's (or counter-offer's) volume against the lot's."""
    found = []
    if volume["unit"] != lot["volume"]["unit"]:
        message = f"must be the lot's unit {lot['volume']['unit']!r}; got {volume['unit']!r}"
        found.append(("unit_mismatch", FieldError(f"{at}/unit", message)))
    if volume["amount"] > lot["volume"]["amount"]:
        message = f"must not exceed the lot's {lot['volume']['amount']}; got {volume['amount']}"
        found.append(("volume_exceeds_lot", FieldError(f"{at}/amount", message)))
    return found


def expiry_stamp(value: str | None, at: str) -> str | None:
    """``value`` (an RFC 3339 date-time) as a UTC stamp comparable with the clock's; 422 when it
    names no representable instant."""
    if value is None:
        return None
    instant = _parse(value)
    if instant is None:
        raise RuleError([FieldError(at, "must be a date-time between years 1 and 9999")])
    return stamp(instant)


def stamp(instant: datetime) -> str:
    """``instant`` as a fixed-width UTC stamp (four-digit years), ordered like the instants and
    comparable with ``lotflow.clock.isoformat`` of the current time."""
    d = instant.astimezone(UTC)
    return (
        f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
        f".{d.microsecond // 1000:03d}Z"
    )


def _parse(value: str) -> datetime | None:
    match = _RFC3339.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction = (match.group(7) or ".0")[1:7].ljust(6, "0")
    zone = match.group(8).upper().replace("Z", "+00:00")
    try:
        instant = datetime(year, month, day, hour, minute, min(second, 59), int(fraction))
        return datetime.fromisoformat(instant.isoformat() + zone).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
