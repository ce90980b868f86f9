"""The buyer organisation's notifications, through the one notifications service both portals
share (``lotflow.reference.common.notifications``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lotflow.reference.common import store

from lotflow.http import OperationRequest, Reply

if TYPE_CHECKING:
    from lotflow.reference.buyer.context import BuyerContext

__all__ = ["list_notifications", "mark_notification_read"]


def list_notifications(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """listNotifications: newest first; ``unread=true`` keeps the unread ones."""
    with ctx.db.read() as conn:
        page = ctx.notifications.page(conn, req.principal.org_id, req.query)
    return Reply(200, raw_json=page)


def mark_notification_read(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """markNotificationRead: sets ``readAt`` once; marking again changes nothing."""
    with ctx.transaction() as tx:
        doc = ctx.notifications.mark_read(
            tx.conn, req.principal.org_id, req.path_params["notificationId"], tx.stamp
        )
    return Reply(200, raw_json=store.encode({"notification": doc}))
