"""Webhook events written in the same transaction as the change that causes them (the outbox)."""

from __future__ import annotations

import json
from typing import Any

from lotflow.reference.buyer.context import BuyerContext
from lotflow.reference.common.docstore import Doc, dumps
from sqlalchemy import Connection, Row, select

from lotflow.clock import isoformat
from lotflow.ids import new_event_id


def enqueue(conn: Connection, ctx: BuyerContext, event: str, org_id: str, **body: Any) -> str:
    """Write one event; the dispatcher delivers it after the transaction commits."""
    now = ctx.clock.now()
    event_id = new_event_id()
    payload = {"event": event, "eventId": event_id, "timestamp": isoformat(now), **body}
    conn.execute(
        ctx.tables.outbox.insert().values(
            id=event_id,
            org_id=org_id,
            event=event,
            path=ctx.delivery_paths[event],
            payload=dumps(payload),
            status="pending",
            attempts=0,
            next_attempt_at=now.timestamp(),
            lease_until=0.0,
            created_at=isoformat(now),
        )
    )
    return event_id


def lot_event(conn: Connection, ctx: BuyerContext, event: str, lot: Doc) -> None:
    organization = {"_id": lot["orgId"], "name": ctx.settings.org_name(lot["orgId"])}
    enqueue(conn, ctx, event, lot["orgId"], lot=lot, organization=organization)


def bid_event(
    conn: Connection, ctx: BuyerContext, event: str, bid: Doc, lot: Doc, **extra: Any
) -> None:
    enqueue(
        conn,
        ctx,
        event,
        lot["orgId"],
        bid=bid,
        lot=lot,
        **{k: v for k, v in extra.items() if v is not None},
    )


def contract_event(conn: Connection, ctx: BuyerContext, contract: Doc, bid: Doc, lot: Doc) -> None:
    enqueue(conn, ctx, "contract.created", lot["orgId"], contract=contract, bid=bid, lot=lot)


def delivery_doc(ctx: BuyerContext, row: Row[Any], attempts: list[Row[Any]] | None = None) -> Doc:
    """The WebhookDelivery representation of an outbox row."""
    doc: Doc = {
        "_id": row.id,
        "event": row.event,
        "url": ctx.settings.webhook_base_url + row.path,
        "status": row.status,
        "attempts": row.attempts,
        "nextAttemptAt": isoformat_epoch(row.next_attempt_at) if row.status == "pending" else None,
        "lastStatusCode": row.last_status_code,
        "lastError": row.last_error,
        "createdAt": row.created_at,
        "deliveredAt": row.delivered_at,
        "payload": json.loads(row.payload),
    }
    if attempts is not None:
        doc["attemptLog"] = [
            {
                "attempt": a.attempt,
                "startedAt": a.started_at,
                "durationMs": a.duration_ms,
                "statusCode": a.status_code,
                "outcome": a.outcome,
                "error": a.error,
            }
            for a in attempts
        ]
    return doc


def isoformat_epoch(seconds: float) -> str:
    from datetime import UTC, datetime

    return isoformat(datetime.fromtimestamp(seconds, UTC))


def attempts_of(conn: Connection, ctx: BuyerContext, event_id: str) -> list[Row[Any]]:
    table = ctx.tables.attempts
    return list(
        conn.execute(
            select(table).where(table.c.event_id == event_id).order_by(table.c.attempt, table.c.id)
        )
    )
