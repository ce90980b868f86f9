"""The webhook delivery log (``listWebhookDeliveries``, ``getWebhookDelivery``) and
``redeliverWebhook``, which queues a delivered or failed event again under the same id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lotflow.reference.buyer.outbox import DELIVERED, FAILED, PENDING
from lotflow.reference.buyer.tables import attempts, outbox
from lotflow.reference.common import store
from sqlalchemy import Connection, Row, func, select, update

from lotflow.clock import isoformat
from lotflow.http import OperationRequest, Reply
from lotflow.problems import Problem

if TYPE_CHECKING:
    from lotflow.reference.buyer.context import BuyerContext

__all__ = ["get_webhook_delivery", "list_webhook_deliveries", "redeliver_webhook"]

AnyRow = Row[*tuple[Any, ...]]

_COLUMNS = (
    outbox.c.id,
    outbox.c.event,
    outbox.c.path,
    outbox.c.status,
    outbox.c.attempts,
    outbox.c.next_attempt_at,
    outbox.c.last_status_code,
    outbox.c.last_error,
    outbox.c.created_at,
    outbox.c.delivered_at,
    outbox.c.payload,
)


def list_webhook_deliveries(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """listWebhookDeliveries: the organisation's events, newest first."""
    query = req.query
    where = [outbox.c.org_id == req.principal.org_id]
    if query.get("status") is not None:
        where.append(outbox.c.status == query["status"])
    if query.get("event") is not None:
        where.append(outbox.c.event == store.text_column(query["event"]))
    total = func.count().over().label("total")
    statement = (
        select(*_COLUMNS, total)
        .where(*where)
        .order_by(outbox.c.created_at.desc(), outbox.c.seq.desc())
        .limit(query["limit"])
        .offset(query["offset"])
    )
    with ctx.db.read() as conn:
        rows = conn.execute(statement).all()
        counting = select(func.count()).select_from(outbox).where(*where)
        count = rows[0].total if rows else conn.execute(counting).scalar_one()
    items = b",".join(_render(row, ctx.settings.webhook_base_url) for row in rows)
    return Reply(200, raw_json=b'{"deliveries":[%s],"count":%d}' % (items, count))


def get_webhook_delivery(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """getWebhookDelivery: one event with every attempt."""
    with ctx.db.read() as conn:
        row = _owned(conn, req.path_params["deliveryId"], req.principal.org_id)
        log = _attempt_log(conn, row.id)
    return Reply(200, raw_json=_wrapped(_render(row, ctx.settings.webhook_base_url, log)))


def redeliver_webhook(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """redeliverWebhook: a delivered or failed event is pending again, due now, with the same id
    and a fresh retry budget; 409 while it is still pending."""
    event_id = req.path_params["deliveryId"]
    with ctx.transaction() as tx:
        row = _owned(tx.conn, event_id, req.principal.org_id)
        requeue = (
            update(outbox)
            .where(outbox.c.id == event_id, outbox.c.status.in_((DELIVERED, FAILED)))
            .values(
                status=PENDING,
                next_attempt_at=tx.now.timestamp(),
                give_up_after=row.attempts + ctx.settings.webhook_max_attempts,
                lease_owner=None,
                lease_until=None,
            )
        )
        if tx.conn.execute(requeue).rowcount != 1:
            raise Problem.conflict(
                "delivery_pending",
                f"Event {event_id} is still pending delivery; redeliver it once it is "
                "delivered or failed.",
                currentState=row.status,
            )
        tx.woke = True
        row = _owned(tx.conn, event_id, req.principal.org_id)
        log = _attempt_log(tx.conn, event_id)
    return Reply(202, raw_json=_wrapped(_render(row, ctx.settings.webhook_base_url, log)))


def _owned(conn: Connection, event_id: str, org_id: str) -> AnyRow:
    statement = select(*_COLUMNS).where(outbox.c.id == event_id, outbox.c.org_id == org_id)
    row = conn.execute(statement).first()
    if row is None:
        raise Problem.not_found("webhook delivery", event_id)
    return row


def _attempt_log(conn: Connection, event_id: str) -> list[dict[str, Any]]:
    statement = select(attempts).where(attempts.c.event_id == event_id).order_by(attempts.c.seq)
    return [
        {
            "attempt": r.attempt,
            "startedAt": r.started_at,
            "durationMs": r.duration_ms,
            "statusCode": r.status_code,
            "outcome": r.outcome,
            "error": r.error,
        }
        for r in conn.execute(statement).all()
    ]


def _render(row: AnyRow, base_url: str | None, log: list[dict[str, Any]] | None = None) -> bytes:
    """A ``WebhookDelivery`` with the stored payload spliced in unchanged."""
    delivery: dict[str, Any] = {
        "_id": row.id,
        "event": row.event,
        "url": f"{base_url}{row.path}" if base_url else row.path,
        "status": row.status,
        "attempts": row.attempts,
        "nextAttemptAt": isoformat(row.next_attempt_at) if row.status == PENDING else None,
        "lastStatusCode": row.last_status_code,
        "lastError": row.last_error,
        "createdAt": row.created_at,
        "deliveredAt": row.delivered_at,
    }
    if log is not None:
        delivery["attemptLog"] = log
    head = store.encode(delivery)
    return head[:-1] + b',"payload":' + str(row.payload).encode() + b"}"


def _wrapped(delivery: bytes) -> bytes:
    return b'{"delivery":' + delivery + b"}"
