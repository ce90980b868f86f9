"""The dispatcher's side of the outbox: claiming due events under a lease, recording attempts.

A claim takes the due, unleased (or lapsed) events after a cursor and leases them to a fresh
owner token with a conditional update, so that two senders never hold the same event and the
events of a sender that died become due again when its lease lapses. Recording writes each
attempt and its consequence only for the events the owner still holds. Every statement is
prepared once; a batch costs the same few statements whatever its size.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lotflow.reference.buyer.outbox import PENDING
from lotflow.reference.buyer.tables import attempts, outbox
from sqlalchemy import BindParameter, Connection, Row, bindparam, insert, or_, select, update

__all__ = ["Claim", "Recorded", "claim", "record"]

_FREE = or_(outbox.c.lease_until.is_(None), outbox.c.lease_until <= bindparam("now"))
_IDS: BindParameter[str] = bindparam("ids", expanding=True)
_DUE = (
    select(outbox.c.seq, outbox.c.id)
    .where(
        outbox.c.status == PENDING,
        outbox.c.next_attempt_at <= bindparam("now"),
        _FREE,
        outbox.c.seq > bindparam("cursor"),
    )
    .order_by(outbox.c.seq)
    .limit(bindparam("limit"))
)
_LEASE = (
    update(outbox)
    .where(outbox.c.id.in_(_IDS), outbox.c.status == PENDING, _FREE)
    .values(lease_owner=bindparam("owner"), lease_until=bindparam("until"))
)
_LEASED = (
    select(outbox.c.id, outbox.c.path, outbox.c.payload, outbox.c.attempts, outbox.c.give_up_after)
    .where(outbox.c.id.in_(_IDS), outbox.c.lease_owner == bindparam("owner"))
    .order_by(outbox.c.seq)
)
_HELD = select(outbox.c.id).where(outbox.c.id.in_(_IDS), outbox.c.lease_owner == bindparam("owner"))
_RECORD = (
    update(outbox)
    .where(outbox.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempt"),
        next_attempt_at=bindparam("b_next"),
        delivered_at=bindparam("b_delivered_at"),
        last_status_code=bindparam("b_status_code"),
        last_error=bindparam("b_error"),
        lease_owner=None,
        lease_until=None,
    )
)


@dataclass(frozen=True)
class Claim:
    """Events leased to ``owner`` in one claim, and the cursor after them."""

    events: Sequence[Row[*tuple[Any, ...]]]
    cursor: int
    owner: str


@dataclass(frozen=True)
class Recorded:
    """One attempt of one event and what follows from it."""

    event_id: str
    attempt: int
    status: str
    next_attempt_at: float
    delivered_at: str | None
    started_at: str
    duration_ms: float
    status_code: int | None
    outcome: str
    error: str | None


def claim(conn: Connection, *, now: float, cursor: int, limit: int, lease: float) -> Claim:
    """Lease up to ``limit`` events due at ``now`` whose seq is above ``cursor``."""
    owner = secrets.token_hex(8)
    due = conn.execute(_DUE, {"now": now, "cursor": cursor, "limit": limit}).all()
    if not due:
        return Claim([], cursor, owner)
    ids = [row.id for row in due]
    conn.execute(_LEASE, {"ids": ids, "now": now, "owner": owner, "until": now + lease})
    events = conn.execute(_LEASED, {"ids": ids, "owner": owner}).all()
    return Claim(events, int(due[-1].seq), owner)


def record(conn: Connection, owner: str, results: Sequence[Recorded]) -> list[Recorded]:
    """Write the attempts of the events ``owner`` still holds; returns those recorded."""
    ids = [result.event_id for result in results]
    held = set(conn.execute(_HELD, {"ids": ids, "owner": owner}).scalars())
    kept = [result for result in results if result.event_id in held]
    if kept:
        conn.execute(_RECORD, [_consequence(result) for result in kept])
        conn.execute(insert(attempts), [_attempt(result) for result in kept])
    return kept


def _consequence(result: Recorded) -> dict[str, Any]:
    return {
        "b_id": result.event_id,
        "b_status": result.status,
        "b_attempt": result.attempt,
        "b_next": result.next_attempt_at,
        "b_delivered_at": result.delivered_at,
        "b_status_code": result.status_code,
        "b_error": result.error,
    }


def _attempt(result: Recorded) -> dict[str, Any]:
    return {
        "event_id": result.event_id,
        "attempt": result.attempt,
        "started_at": result.started_at,
        "duration_ms": max(result.duration_ms, 0.0),
        "status_code": result.status_code,
        "outcome": result.outcome,
        "error": result.error,
    }
