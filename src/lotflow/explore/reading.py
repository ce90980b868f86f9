"""Reading both parties into a :class:`~lotflow.explore.checks.Snapshot`, through their APIs:
the model's lots and bids on the buyer (with each bid's counter-offer), the same lots in the
producer's marketplace, every producer's bids, and the contracts of both sides."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lotflow.explore.checks import Seen, Snapshot
from lotflow.explore.pair import Pair
from lotflow.explore.steps import Variables

__all__ = ["read_snapshot"]

LIMIT = {"limit": 200}


def read_snapshot(
    pair: Pair, variables: Variables, lots: Iterable[int], bids: Iterable[int]
) -> Snapshot:
    """What both parties show now of the entities the model made."""
    snapshot = Snapshot()
    lot_ids = {variables.values[f"lot_{n}"] for n in lots}
    for lot_id in lot_ids:
        _buyer_lot(pair, snapshot, lot_id)
        _marketplace_lot(pair, snapshot, lot_id)
    for var in bids:
        if (bid_id := variables.values.get(f"bid_{var}")) is not None:
            _buyer_bid(pair, snapshot, bid_id)
    for contract in pair.buyer("listContracts", query=LIMIT).json()["contracts"]:
        if contract["lotId"] in lot_ids:
            snapshot.add(_seen("buyer.contract", contract, lotId="lotId", bidId="bidId"))
    for alias in pair.aliases:
        _producer_side(pair, snapshot, alias, lot_ids)
    return snapshot


def _seen(machine: str, doc: dict[str, Any], **links: str) -> Seen:
    found = {name: str(doc[field]) for name, field in links.items() if doc.get(field)}
    return Seen(machine, doc["_id"], doc["status"], int(doc.get("version") or 0), found)


def _buyer_lot(pair: Pair, snapshot: Snapshot, lot_id: str) -> None:
    answer = pair.buyer("getLot", path={"lotId": lot_id})
    if answer.status_code == 200:
        snapshot.add(_seen("buyer.lot", answer.json()["lot"], publishedAt="publishedAt"))


def _marketplace_lot(pair: Pair, snapshot: Snapshot, lot_id: str) -> None:
    answer = pair.producer(pair.aliases[0], "getMarketplaceLot", path={"lotId": lot_id})
    if answer.status_code == 200:
        snapshot.add(_seen("producer.lot", answer.json()["lot"]))


def _buyer_bid(pair: Pair, snapshot: Snapshot, bid_id: str) -> None:
    answer = pair.buyer("getBid", path={"bidId": bid_id})
    if answer.status_code != 200:
        return
    detail = answer.json()
    snapshot.add(_seen("buyer.bid", detail["bid"], lotId="lotId"))
    if counter := detail.get("counterOffer"):
        snapshot.add(_seen("buyer.counter_offer", counter, bidId="bidId"))


def _producer_side(pair: Pair, snapshot: Snapshot, alias: str, lot_ids: set[str]) -> None:
    for bid in pair.producer(alias, "listProducerBids", query=LIMIT).json()["bids"]:
        if bid["lotId"] in lot_ids:
            snapshot.add(_seen("producer.bid", bid, lotId="lotId", buyerBidId="buyerBidId"))
    for contract in pair.producer(alias, "listProducerContracts", query=LIMIT).json()["contracts"]:
        if contract["lotId"] in lot_ids:
            snapshot.add(_seen("producer.contract", contract, lotId="lotId", bidId="bidId"))
