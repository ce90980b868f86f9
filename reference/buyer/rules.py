"""Business rules a schema cannot state: pricing consistency and volumes that fit the lot."""

from __future__ import annotations

from typing import Any

from lotflow.problems import FieldError, Problem

TOLERANCE = 0.01


def check_pricing(volume: dict[str, Any], pricing: dict[str, Any], where: str = "/pricing") -> None:
    """``price`` is the total: it must equal volume.amount x pricePerUnit within 0.01."""
    expected = round(volume["amount"] * pricing["pricePerUnit"], 2)
    if abs(pricing["price"] - expected) > TOLERANCE:
        raise Problem.validation(
            [
                FieldError(
                    f"{where}/price",
                    f"is {pricing['price']} but volume.amount x pricePerUnit is {expected}",
                )
            ],
            code="inconsistent_pricing",
        )


def check_fits_lot(lot: dict[str, Any], volume: dict[str, Any], where: str = "/volume") -> None:
    """A bid or counter-offer uses the lot's unit and does not exceed the lot's volume."""
    errors = []
    if volume["unit"] != lot["volume"]["unit"]:
        errors.append(
            FieldError(
                f"{where}/unit",
                f"is {volume['unit']!r}; the lot is sold in {lot['volume']['unit']!r}",
            )
        )
    elif volume["amount"] > lot["volume"]["amount"]:
        errors.append(
            FieldError(
                f"{where}/amount",
                f"is {volume['amount']}, more than the lot's {lot['volume']['amount']}",
            )
        )
    if errors:
        raise Problem.validation(errors, code="volume_exceeds_lot")


def require_open_lot(lot: dict[str, Any]) -> None:
    if lot["status"] != "published":
        raise Problem.conflict(
            "lot_not_open",
            f"Lot {lot['_id']} is {lot['status']}; it takes bids only while published.",
            currentState=lot["status"],
        )
