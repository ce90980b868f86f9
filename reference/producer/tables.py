"""The reference producer's tables (SQLAlchemy Core; nothing SQLite-only) and the kinds of the
entities kept in them (``lotflow.reference.common.store``): marketplace lots (the buyer's lots
as the producer shows them), the producer's own bids, its contracts, its notifications, and the
webhook ids already processed (de-duplication of deliveries)."""

from __future__ import annotations

from typing import Any

from lotflow.reference.common.notifications import notification_table
from lotflow.reference.common.store import ID, STAMP, Doc, Kind, entity_table, text_column
from sqlalchemy import Column, Index, MetaData, String, Table, Text

__all__ = ["BID", "CONTRACT", "KINDS", "LOT", "metadata", "received"]

metadata = MetaData()

lots = entity_table(
    "marketplace_lots",
    metadata,
    Column("type", String(64), nullable=False),
    Column("search_text", Text, nullable=False),
    Index("ix_marketplace_lots_status_created", "status", "created_at"),
)

bids = entity_table(
    "producer_bids",
    metadata,
    Column("org_id", String(ID), nullable=False),
    Column("lot_id", String(ID), nullable=False, index=True),
    Column("external_bid_id", String(64), nullable=False, unique=True),
    Column("buyer_bid_id", String(ID), nullable=True, index=True),
    Index("ix_producer_bids_org_created", "org_id", "created_at"),
)

contracts = entity_table(
    "producer_contracts",
    metadata,
    Column("org_id", String(ID), nullable=False),
    Column("buyer_bid_id", String(ID), nullable=False, index=True),
    Index("ix_producer_contracts_org_created", "org_id", "created_at"),
)

notifications = notification_table(metadata)

received = Table(
    "received_webhooks",
    metadata,
    Column("webhook_id", String(200), primary_key=True),
    Column("event", String(64), nullable=False),
    Column("received_at", String(STAMP), nullable=False),
)


def _lot_columns(lot: Doc) -> dict[str, Any]:
    words = f"{lot.get('title', '')}\n{lot.get('description', '')}".lower()
    return {"status": lot["status"], "type": text_column(lot["type"]), "search_text": words}


def _bid_columns(bid: Doc) -> dict[str, Any]:
    return {
        "org_id": bid["producerOrgId"],
        "status": bid["status"],
        "lot_id": bid["lotId"],
        "external_bid_id": bid["externalBidId"],
        "buyer_bid_id": bid.get("buyerBidId"),
    }


def _contract_columns(contract: Doc) -> dict[str, Any]:
    return {
        "org_id": contract["orgId"],
        "status": contract["status"],
        "buyer_bid_id": contract["buyerBidId"],
    }


LOT = Kind("marketplace lot", lots, _lot_columns, part="lot")
BID = Kind("bid", bids, _bid_columns, part="bid", links={"lotId": LOT})
CONTRACT = Kind("contract", contracts, _contract_columns, part="contract", links={"bidId": BID})
KINDS = {"lot": LOT, "bid": BID, "contract": CONTRACT}
"""Each kind by the entity name its state machine (``producer.<entity>``) has in the workflow."""
