"""The outbox: webhook events written in the same transaction as the change they describe.

An event row holds the exact body that will be signed and sent (``{event, eventId, timestamp,
...parts}``, the shapes of the spec's payload schemas), the receiver path of its event (the spec's
``x-lotflow-delivery-path``), and its delivery state: ``pending`` with ``next_attempt_at`` and an
optional lease, then ``delivered`` or ``failed``. The event id is the ``webhook-id`` of every
attempt, so it never changes across retries and redeliveries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lotflow.reference.buyer.tables import outbox
from lotflow.reference.common.store import dumps
from sqlalchemy import Connection

from lotflow.ids import new_event_id

__all__ = ["DELIVERED", "FAILED", "PENDING", "enqueue"]

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def enqueue(
    conn: Connection,
    *,
    event: str,
    org_id: str,
    path: str,
    parts: dict[str, Any],
    now: datetime,
    stamp: str,
    max_attempts: int,
) -> str:
    """Insert one pending event due now; return its id."""
    event_id = new_event_id()
    payload = {"event": event, "eventId": event_id, "timestamp": stamp, **parts}
    row = {
        "id": event_id,
        "event": event,
        "org_id": org_id,
        "path": path,
        "payload": dumps(payload),
        "status": PENDING,
        "attempts": 0,
        "give_up_after": max_attempts,
        "next_attempt_at": now.timestamp(),
        "created_at": stamp,
    }
    conn.execute(outbox.insert(), row)
    return event_id
