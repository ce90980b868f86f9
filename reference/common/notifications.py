"""Notifications, the same service in both portals: recorded inside the transaction of the change
they announce, listed newest first, marked read once (a version-conditional write); and the two
operations both portals serve on them (``listNotifications``/``markNotificationRead`` on the
buyer, ``listProducerNotifications``/``markProducerNotificationRead`` on the producer)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from lotflow.reference.common import store
from lotflow.reference.common.store import ID, Doc, Kind
from sqlalchemy import Boolean, Column, Connection, Index, MetaData, String, Table

from lotflow.db import Database
from lotflow.http import OperationRequest, Reply

if TYPE_CHECKING:  # the transaction records notifications: a runtime import would be circular
    from lotflow.reference.common.transaction import Transaction

__all__ = ["Notifications", "list_notifications", "mark_notification_read", "notification_table"]


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


class Portal(Protocol):
    """What the notification operations need of a portal's context."""

    db: Database
    notifications: Notifications

    def transaction(self) -> AbstractContextManager[Transaction]: ...


def list_notifications(ctx: Portal, req: OperationRequest) -> Reply:
    """The caller organisation's notifications, newest first; ``unread=true`` keeps the unread."""
    with ctx.db.read() as conn:
        page = ctx.notifications.page(conn, req.principal.org_id, req.query)
    return Reply(200, raw_json=page)


def mark_notification_read(ctx: Portal, req: OperationRequest) -> Reply:
    """Set ``readAt`` once (marking again changes nothing); the caller's own or not found."""
    with ctx.transaction() as tx:
        doc = ctx.notifications.mark_read(
            tx.conn, req.principal.org_id, req.path_params["notificationId"], tx.stamp
        )
    return Reply(200, raw_json=store.encode({"notification": doc}))
