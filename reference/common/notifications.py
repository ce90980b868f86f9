"""Notifications for an organisation: written by the workflow, read through the operator API."""

from __future__ import annotations

from datetime import datetime

from lotflow.reference.common import docstore
from sqlalchemy import Boolean, Column, Connection, MetaData, String, Table, update

from lotflow.clock import isoformat
from lotflow.http import OperationRequest, Reply
from lotflow.ids import new_object_id


def notification_table(metadata: MetaData) -> Table:
    return docstore.doc_table(
        "notifications",
        metadata,
        Column("org_id", String(64), index=True, nullable=False),
        Column("created_at", String(32), index=True, nullable=False),
        Column("is_read", Boolean, nullable=False, default=False),
    )


def notify(
    conn: Connection,
    table: Table,
    now: datetime,
    org_id: str,
    kind: str,
    title: str,
    message: str,
    *,
    lot_id: str | None = None,
    bid_id: str | None = None,
    contract_id: str | None = None,
) -> None:
    doc = {
        "_id": new_object_id(int(now.timestamp())),
        "orgId": org_id,
        "kind": kind,
        "title": title,
        "message": message,
        "lotId": lot_id,
        "bidId": bid_id,
        "contractId": contract_id,
        "createdAt": isoformat(now),
        "readAt": None,
        "version": 1,
    }
    docstore.insert(conn, table, doc, org_id=org_id, created_at=doc["createdAt"], is_read=False)


def list_notifications(conn: Connection, table: Table, org_id: str, req: OperationRequest) -> Reply:
    conditions = [table.c.org_id == org_id]
    if req.query.get("unread"):
        conditions.append(table.c.is_read.is_(False))
    return docstore.page_reply(conn, table, "notifications", conditions, req.query)


def mark_read(conn: Connection, table: Table, org_id: str, ident: str, now: datetime) -> Reply:
    doc = docstore.require(conn, table, ident, table.c.org_id == org_id, what="notification")
    if doc["readAt"] is None:
        doc = {**doc, "readAt": isoformat(now), "version": doc["version"] + 1}
        conn.execute(
            update(table)
            .where(table.c.id == ident)
            .values(doc=docstore.dumps(doc), version=doc["version"], is_read=True)
        )
    return Reply(200, {"notification": doc})
