"""The reference producer's tables (SQLAlchemy Core; nothing SQLite-only)."""

from __future__ import annotations

from dataclasses import dataclass

from lotflow.reference.common.docstore import doc_table
from lotflow.reference.common.notifications import notification_table
from sqlalchemy import Column, MetaData, String, Table


@dataclass(frozen=True)
class ProducerTables:
    metadata: MetaData
    lots: Table
    bids: Table
    contracts: Table
    notifications: Table
    received: Table


def producer_tables() -> ProducerTables:
    md = MetaData()
    lots = doc_table(
        "marketplace_lots",
        md,
        Column("status", String(12), index=True, nullable=False),
        Column("type", String(64), nullable=False),
        Column("search", String(6000), nullable=False),
        Column("created_at", String(32), index=True, nullable=False),
    )
    bids = doc_table(
        "producer_bids",
        md,
        Column("org_id", String(64), index=True, nullable=False),
        Column("lot_id", String(24), index=True, nullable=False),
        Column("external_bid_id", String(64), unique=True, nullable=False),
        Column("buyer_bid_id", String(24), index=True),
        Column("status", String(16), index=True, nullable=False),
        Column("created_at", String(32), index=True, nullable=False),
    )
    contracts = doc_table(
        "producer_contracts",
        md,
        Column("org_id", String(64), index=True, nullable=False),
        Column("buyer_bid_id", String(24), index=True, nullable=False),
        Column("status", String(16), nullable=False),
        Column("created_at", String(32), index=True, nullable=False),
    )
    received = Table(
        "received_webhooks",
        md,
        Column("webhook_id", String(200), primary_key=True),  # de-duplication of deliveries
        Column("event", String(64), nullable=False),
        Column("received_at", String(32), nullable=False),
    )
    return ProducerTables(md, lots, bids, contracts, notification_table(md), received)
