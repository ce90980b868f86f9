"""The reference buyer's tables (SQLAlchemy Core; nothing SQLite-only)."""

from __future__ import annotations

from dataclasses import dataclass

from lotflow.reference.common.docstore import doc_table
from lotflow.reference.common.notifications import notification_table
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, UniqueConstraint


@dataclass(frozen=True)
class BuyerTables:
    metadata: MetaData
    lots: Table
    bids: Table
    counters: Table
    contracts: Table
    notifications: Table
    outbox: Table
    attempts: Table


def buyer_tables() -> BuyerTables:
    md = MetaData()
    lots = doc_table(
        "lots",
        md,
        Column("org_id", String(24), index=True, nullable=False),
        Column("status", String(20), index=True, nullable=False),
        Column("type", String(64), nullable=False),
        Column("price", Float, nullable=False),
        Column("search", Text, nullable=False),
        Column("standards", Text, nullable=False),
        Column("created_at", String(32), index=True, nullable=False),
    )
    bids = doc_table(
        "bids",
        md,
        Column("lot_id", String(24), index=True, nullable=False),
        Column("org_id", String(24), index=True, nullable=False),
        Column("external_bid_id", String(64), nullable=False),
        Column("status", String(20), index=True, nullable=False),
        Column("source", String(40), nullable=False),
        Column("expires_at", String(32), index=True),
        Column("created_at", String(32), nullable=False),
        UniqueConstraint("lot_id", "external_bid_id", name="uq_bid_external"),
    )
    counters = doc_table(
        "counter_offers",
        md,
        Column("bid_id", String(24), index=True, nullable=False),
        Column("status", String(20), index=True, nullable=False),
        Column("expires_at", String(32), index=True),
    )
    contracts = doc_table(
        "contracts",
        md,
        Column("org_id", String(24), index=True, nullable=False),
        Column("lot_id", String(24), unique=True, nullable=False),  # a lot awards one bid
        Column("bid_id", String(24), unique=True, nullable=False),
        Column("status", String(20), nullable=False),
        Column("created_at", String(32), index=True, nullable=False),
    )
    outbox = Table(
        "outbox",
        md,
        Column("id", String(64), primary_key=True),
        Column("org_id", String(24), index=True, nullable=False),
        Column("event", String(40), index=True, nullable=False),
        Column("path", String(100), nullable=False),
        Column("payload", Text, nullable=False),
        Column("status", String(12), nullable=False),
        Column("attempts", Integer, nullable=False, default=0),
        Column("next_attempt_at", Float, nullable=False),
        Column("lease_until", Float, nullable=False, default=0.0),
        Column("created_at", String(32), index=True, nullable=False),
        Column("delivered_at", String(32)),
        Column("last_status_code", Integer),
        Column("last_error", Text),
    )
    attempts = Table(
        "delivery_attempts",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("event_id", String(64), index=True, nullable=False),
        Column("attempt", Integer, nullable=False),
        Column("started_at", String(32), nullable=False),
        Column("duration_ms", Float, nullable=False),
        Column("status_code", Integer),
        Column("outcome", String(12), nullable=False),
        Column("error", Text),
    )
    return BuyerTables(
        md, lots, bids, counters, contracts, notification_table(md), outbox, attempts
    )
