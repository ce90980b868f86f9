"""A bid's terms placed on a lot, as a correct producer would: the lot's unit, at most the lot's
volume, the lot's currency, and a total that is the volume times the price per unit (the buyer
refuses anything else with a 422). Used wherever lotflow makes a bid up on a producer's behalf:
verify's checks and the producer simulator's control surface."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

__all__ = ["terms_on"]


def terms_on(body: Mapping[str, Any], lot: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``body`` (a bid with ``volume`` and ``pricing``, such as the spec's example)
    placed on ``lot``."""
    placed = copy.deepcopy(dict(body))
    volume, pricing = placed["volume"], placed["pricing"]
    volume["unit"] = lot["volume"]["unit"]
    volume["amount"] = min(volume["amount"], lot["volume"]["amount"])
    pricing["currency"] = lot.get("pricing", {}).get("currency", pricing["currency"])
    pricing["price"] = round(volume["amount"] * pricing["pricePerUnit"], 2)
    return placed | {"lotId": lot["_id"]}
