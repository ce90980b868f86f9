"""The webhook delivery log of the operator API, and redelivery."""

from __future__ import annotations

from lotflow.reference.buyer.context import BuyerContext
from lotflow.reference.buyer.outbox import attempts_of, delivery_doc
from sqlalchemy import func, select, update

from lotflow.http import OperationRequest, Reply
from lotflow.problems import Problem


def list_deliveries(ctx: BuyerContext, req: OperationRequest) -> Reply:
    outbox, q = ctx.tables.outbox, req.query
    conditions = [outbox.c.org_id == req.principal.org_id]
    for name in ("status", "event"):
        if name in q:
            conditions.append(getattr(outbox.c, name) == q[name])
    with ctx.db.read() as conn:
        rows = conn.execute(
            select(outbox)
            .where(*conditions)
            .order_by(outbox.c.created_at.desc(), outbox.c.id)
            .limit(q.get("limit", 50))
            .offset(q.get("offset", 0))
        ).all()
        count = conn.execute(
            select(func.count()).select_from(outbox).where(*conditions)
        ).scalar_one()
    return Reply(200, {"deliveries": [delivery_doc(ctx, row) for row in rows], "count": count})


def get_delivery(ctx: BuyerContext, req: OperationRequest) -> Reply:
    with ctx.db.read() as conn:
        row = _own(conn, ctx, req)
        return Reply(200, {"delivery": delivery_doc(ctx, row, attempts_of(conn, ctx, row.id))})


def redeliver(ctx: BuyerContext, req: OperationRequest) -> Reply:
    outbox = ctx.tables.outbox
    with ctx.db.write() as conn:
        row = _own(conn, ctx, req)
        if row.status == "pending":
            raise Problem.conflict(
                "delivery_pending",
                f"Event {row.id} is still pending; it will be delivered without help.",
                currentState="pending",
            )
        conn.execute(
            update(outbox)
            .where(outbox.c.id == row.id)
            .values(status="pending", next_attempt_at=ctx.clock.now().timestamp(), lease_until=0.0)
        )
        row = _own(conn, ctx, req)
        doc = delivery_doc(ctx, row, attempts_of(conn, ctx, row.id))
    ctx.wake()
    return Reply(202, {"delivery": doc})


def _own(conn, ctx: BuyerContext, req: OperationRequest):  # type: ignore[no-untyped-def]
    outbox = ctx.tables.outbox
    row = conn.execute(
        select(outbox).where(
            outbox.c.id == req.path_params["deliveryId"], outbox.c.org_id == req.principal.org_id
        )
    ).first()
    if row is None:
        raise Problem.not_found("webhook delivery", req.path_params["deliveryId"])
    return row
