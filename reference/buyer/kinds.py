"""The buyer's entity kinds: each table with the columns derived from its documents, the member
that carries it in webhook payloads, and the ids that link it to other entities."""

from __future__ import annotations

from typing import Any

from lotflow.reference.buyer import rules, tables
from lotflow.reference.common.store import Doc, Kind, text_column
from sqlalchemy import Connection, delete, insert

__all__ = ["BID", "CONTRACT", "COUNTER", "KINDS", "LOT", "sync_standards"]


def _lot_columns(lot: Doc) -> dict[str, Any]:
    words = f"{lot['title']}\n{lot.get('description', '')}".lower()
    return {
        "org_id": lot["orgId"],
        "status": lot["status"],
        "type": text_column(lot["type"]),
        "price": lot["pricing"]["price"],
        "search_text": text_column(words),
    }


def _bid_columns(bid: Doc) -> dict[str, Any]:
    return {
        "org_id": bid["buyerOrgId"],
        "status": bid["status"],
        "lot_id": bid["lotId"],
        "external_bid_id": bid["externalBidId"],
        "expires_at": rules.expiry_stamp(bid.get("expiresAt"), "/expiresAt"),
    }


def _counter_columns(counter: Doc) -> dict[str, Any]:
    return {
        "org_id": counter["buyerOrgId"],
        "status": counter["status"],
        "bid_id": counter["bidId"],
        "expires_at": rules.expiry_stamp(counter.get("expiresAt"), "/expiresAt"),
    }


def _contract_columns(contract: Doc) -> dict[str, Any]:
    return {
        "org_id": contract["buyerOrgId"],
        "status": contract["status"],
        "lot_id": contract["lotId"],
        "bid_id": contract["bidId"],
    }


LOT = Kind("lot", tables.lots, _lot_columns, part="lot")
BID = Kind("bid", tables.bids, _bid_columns, part="bid", links={"lotId": LOT})
COUNTER = Kind(
    "counter-offer",
    tables.counter_offers,
    _counter_columns,
    part="counterOffer",
    links={"bidId": BID, "lotId": LOT},
)
CONTRACT = Kind(
    "contract",
    tables.contracts,
    _contract_columns,
    part="contract",
    links={"bidId": BID, "lotId": LOT},
)
KINDS = {"lot": LOT, "bid": BID, "counter_offer": COUNTER, "contract": CONTRACT}
"""Each kind by the entity name its state machine (``buyer.<entity>``) has in the workflow."""


def sync_standards(conn: Connection, lot: Doc) -> None:
    """Index the lot's compliance standards for the ``standards`` filter."""
    table = tables.lot_standards
    conn.execute(delete(table).where(table.c.lot_id == lot["_id"]))
    found = {text_column(s) for s in (lot.get("compliance") or {}).get("standards", [])}
    if found:
        conn.execute(insert(table), [{"lot_id": lot["_id"], "standard": s} for s in sorted(found)])
