"""The buyer organisation's notifications: recorded inside the transaction of the change they
announce, listed newest first, marked read idempotently."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lotflow.reference.buyer import store
from lotflow.reference.buyer.store import Doc, Kind
from lotflow.reference.buyer.tables import notifications as table
from sqlalchemy import Connection

from lotflow.http import OperationRequest, Reply
from lotflow.problems import Problem

if TYPE_CHECKING:
    from lotflow.reference.buyer.context import BuyerContext

__all__ = ["NOTIFICATION", "list_notifications", "mark_notification_read", "record"]


def _columns(doc: Doc) -> dict[str, Any]:
    return {"org_id": doc["orgId"], "status": doc["kind"], "unread": doc["readAt"] is None}


NOTIFICATION = Kind("notification", table, _columns)


def record(
    conn: Connection,
    notification_id: str,
    stamp: str,
    org_id: str,
    kind: str,
    title: str,
    message: str,
    about: dict[str, str | None],
) -> None:
    """Insert one unread notification."""
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
    store.insert(conn, NOTIFICATION, doc)


def list_notifications(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """listNotifications: newest first; ``unread=true`` keeps the unread ones."""
    conditions = [table.c.org_id == req.principal.org_id]
    if req.query.get("unread") is True:
        conditions.append(table.c.unread.is_(True))
    limit, offset = req.query["limit"], req.query["offset"]
    with ctx.db.read() as conn:
        found = store.page(conn, table, conditions, limit=limit, offset=offset)
    return Reply(200, raw_json=store.splice_list("notifications", found))


def mark_notification_read(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """markNotificationRead: sets ``readAt`` once; marking again changes nothing."""
    notification_id = req.path_params["notificationId"]
    with ctx.transaction() as tx:
        doc = store.fetch(tx.conn, NOTIFICATION, notification_id, org_id=req.principal.org_id)
        if doc is None:
            raise Problem.not_found("notification", notification_id)
        if doc["readAt"] is None:
            read = store.revise(doc, tx.stamp, readAt=tx.stamp)
            store.save(tx.conn, NOTIFICATION, doc, read)
            doc = read
    return Reply(200, raw_json=store.encode({"notification": doc}))
