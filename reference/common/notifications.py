"""Notifications, the same service in both portals: recorded inside the transaction of the change
they announce, listed newest first, marked read once (a version-conditional write)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lotflow.reference.common import store
from lotflow.reference.common.store import ID, Doc, Kind
from sqlalchemy import Boolean, Column, Connection, Index, MetaData, String, Table

__all__ = ["Notifications", "notification_table"]


def notification_table(metadata: MetaData) -> Table:
    """The ``notifications`` table of a portal's ``metadata``."""
    return store.entity_table(
        "notifications",
        metadata,
        Column("org_id", String(ID), nullable=False),
        Column("unread", Boolean, nullable=False),
        Index("ix_notifications_org_created", "org_id", "created_at"),
    )


def _columns(doc: Doc) -> dict[str, Any]:
    return {"org_id": doc["orgId"], "status": doc["kind"], "unread": doc["readAt"] is None}


class Notifications:
    """The notifications kept in ``table`` (see :func:`notification_table`)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.kind = Kind("notification", table, _columns)

    def record(
        self,
        conn: Connection,
        notification_id: str,
        stamp: str,
        org_id: str,
        kind: str,
        title: str,
        message: str,
        about: Mapping[str, str | None],
    ) -> None:
        """Insert one unread notification; ``about`` may name ``lot_id``, ``bid_id`` and
        ``contract_id``."""
        doc: Doc = {
            "_id": notification_id,
            "orgId": org_id,
            "kind": kind,
            "title": title,
            "message": message,
            "lotId": about.get("lot_id"),
            "bidId": about.get("bid_id"),
            "contractId": about.get("contract_id"),
            "createdAt": stamp,
            "readAt": None,
            "updatedAt": stamp,
            "version": 1,
        }
        store.insert(conn, self.kind, doc)

    def page(self, conn: Connection, org_id: str, query: Mapping[str, Any]) -> bytes:
        """``{"notifications": [...], "count": n}``, newest first; ``unread`` keeps the unread."""
        table = self.table
        conditions = [table.c.org_id == org_id]
        if query.get("unread") is True:
            conditions.append(table.c.unread.is_(True))
        found = store.page(conn, table, conditions, limit=query["limit"], offset=query["offset"])
        return store.splice_list("notifications", found)

    def mark_read(self, conn: Connection, org_id: str, notification_id: str, stamp: str) -> Doc:
        """Set ``readAt`` once (marking again changes nothing); the caller's own or not found."""
        doc = store.require(conn, self.kind, notification_id, org_id=org_id)
        if doc["readAt"] is not None:
            return doc
        read = store.revise(doc, stamp, readAt=stamp)
        store.save(conn, self.kind, doc, read)
        return read
