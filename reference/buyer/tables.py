"""The buyer's tables (SQLAlchemy Core, portable: SQLite by default, PostgreSQL by URL).

Each entity is stored as its JSON document (``doc``, ASCII JSON exactly as served) plus the
columns that filters, ordering and arbitration need (``lotflow.reference.common.store``'s
:func:`entity_table`, with the buyer organisation's ``org_id``). Races are settled by the
database: conditional updates on ``version``/``status`` and the unique constraints below (one bid
per ``(lot_id, external_bid_id)``, one contract per lot and per bid, one event per id).
"""

from __future__ import annotations

from lotflow.reference.common.notifications import notification_table
from lotflow.reference.common.store import ID, STAMP, entity_table
from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "attempts",
    "bids",
    "contracts",
    "counter_offers",
    "lot_standards",
    "lots",
    "metadata",
    "notifications",
    "outbox",
]

metadata = MetaData()


def _entity(name: str, *columns: Column[object] | Index | UniqueConstraint) -> Table:
    """A document table of the buyer organisation ``org_id``, plus the entity's own columns."""
    return entity_table(name, metadata, Column("org_id", String(ID), nullable=False), *columns)


lots = _entity(
    "lots",
    Column("type", String(64), nullable=False),
    Column("price", Float, nullable=False),
    Column("search_text", Text, nullable=False),
    Index("ix_lots_status_created", "status", "created_at"),
    Index("ix_lots_org_created", "org_id", "created_at"),
)

lot_standards = Table(
    "lot_standards",
    metadata,
    Column("lot_id", String(ID), primary_key=True),
    Column("standard", String(64), primary_key=True),
    Index("ix_lot_standards_standard", "standard"),
)

bids = _entity(
    "bids",
    Column("lot_id", String(ID), nullable=False, index=True),
    Column("external_bid_id", String(64), nullable=False),
    Column("terms_hash", String(64), nullable=False),
    Column("expires_at", String(STAMP), nullable=True),
    UniqueConstraint("lot_id", "external_bid_id", name="uq_bids_lot_external"),
    Index("ix_bids_status_expires", "status", "expires_at"),
)

counter_offers = _entity(
    "counter_offers",
    Column("bid_id", String(ID), nullable=False, index=True),
    Column("expires_at", String(STAMP), nullable=True),
    Index("ix_counter_offers_status_expires", "status", "expires_at"),
)

contracts = _entity(
    "contracts",
    Column("lot_id", String(ID), nullable=False),
    Column("bid_id", String(ID), nullable=False),
    UniqueConstraint("lot_id", name="uq_contracts_lot"),
    UniqueConstraint("bid_id", name="uq_contracts_bid"),
    Index("ix_contracts_org_created", "org_id", "created_at"),
)

notifications = notification_table(metadata)

outbox = Table(
    "outbox",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(80), nullable=False, unique=True),
    Column("event", String(64), nullable=False),
    Column("org_id", String(ID), nullable=False),
    Column("path", String(200), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("give_up_after", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("lease_owner", String(32), nullable=True),
    Column("lease_until", Float, nullable=True),
    Column("created_at", String(STAMP), nullable=False),
    Column("delivered_at", String(STAMP), nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Index("ix_outbox_status_due", "status", "next_attempt_at"),
    Index("ix_outbox_org_created", "org_id", "created_at"),
)

attempts = Table(
    "delivery_attempts",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(80), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("started_at", String(STAMP), nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("error", Text, nullable=True),
)
