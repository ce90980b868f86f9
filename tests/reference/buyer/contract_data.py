"""Positive test data that satisfies the contract's cross-field rules, for Schemathesis.

The schemas cannot state every rule of the contract: a price is the total (``volume.amount x
pricePerUnit`` within 0.01), a bid or counter-offer uses its lot's unit and stays within its
lot's volume. Schemathesis's ``positive_data_acceptance`` check expects schema-valid data to be
accepted, so for positive cases only, these functions complete the data the way a correct client
would (the check itself stays as it is; the 422s for breaking a rule are tested one by one in
the behaviour tests). Negative cases are never touched.
"""

from __future__ import annotations

import copy
import math
from typing import Any

__all__ = ["make_contract_valid"]

CEILING = 1e11  # totals stay well under Money's maximum (1e12)
DEFAULT_VOLUME = {"amount": 1000, "unit": "gallons"}
DEFAULT_PRICING = {"price": 1000, "currency": "USD", "pricePerUnit": 1}


def make_contract_valid(operation_id: str, body: Any, lot: dict[str, Any]) -> Any:
    """A copy of ``body`` completed to satisfy the rules of ``operation_id`` (``body`` itself when
    there is nothing to complete); ``lot`` is the published lot that bids are placed on.

    Never in place: Schemathesis hands out the spec's example bodies as shared objects, and an
    example changed by one case would make the next draw differently, which Hypothesis reports
    as a flaky strategy when it replays a case."""
    fix = _FIXES.get(operation_id)
    if fix is None or not isinstance(body, dict):
        return body
    fixed = copy.deepcopy(body)
    fix(fixed, lot)
    return fixed


def _capped_per_unit(amount: float, per_unit: float) -> float:
    if amount * per_unit <= CEILING:
        return per_unit
    return math.floor(CEILING / amount * 10_000) / 10_000


def _consistent(volume: dict[str, Any], pricing: dict[str, Any]) -> None:
    pricing["pricePerUnit"] = _capped_per_unit(volume["amount"], pricing["pricePerUnit"])
    pricing["price"] = round(volume["amount"] * pricing["pricePerUnit"], 2)


def _lot_terms(body: dict[str, Any], _lot: dict[str, Any]) -> None:
    if "volume" in body or "pricing" in body:
        body.setdefault("volume", dict(DEFAULT_VOLUME))
        body.setdefault("pricing", dict(DEFAULT_PRICING))
        _consistent(body["volume"], body["pricing"])


def _within_lot(volume: dict[str, Any], lot: dict[str, Any]) -> None:
    volume["unit"] = lot["volume"]["unit"]
    volume["amount"] = min(volume["amount"], lot["volume"]["amount"])


def _bid(body: dict[str, Any], lot: dict[str, Any]) -> None:
    body["lotId"] = lot["_id"]
    _within_lot(body["volume"], lot)
    _consistent(body["volume"], body["pricing"])


def _counter(body: dict[str, Any], lot: dict[str, Any]) -> None:
    _within_lot(body["volume"], lot)
    body["pricePerUnit"] = _capped_per_unit(body["volume"]["amount"], body["pricePerUnit"])
    if "price" in body:
        body["price"] = round(body["volume"]["amount"] * body["pricePerUnit"], 2)


_FIXES = {
    "createLot": _lot_terms,
    "updateLot": _lot_terms,
    "submitBid": _bid,
    "counterBid": _counter,
}
