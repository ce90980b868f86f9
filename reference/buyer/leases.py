"""The dispatcher's side of the outbox: claiming due events under a lease, recording attempts.

A claim takes the due, unleased (or lapsed) events after a cursor, except those the caller is
still busy with, and leases them to an owner token with a conditional update, so that two senders
never hold the same event and the events of a sender that died become due again when its lease
lapses. Recording writes each attempt and its consequence only for the events the owner still
holds. Every statement is prepared once; a batch costs the same few statements whatever its size.

An owner token names the dispatcher that claimed: ``<host>:<pid>:<instance>:<claim>``
(:class:`Identity`). A dispatcher that starts on the same host releases at once the leases of
dispatchers that are gone (their process has exited, or it is this very process and the instance
is not alive in it: a container restarted with the same pid), instead of waiting for the leases
to lapse (:func:`release_orphans`); and one that stops releases its own (:func:`release`).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lotflow.reference.buyer.outbox import PENDING
from lotflow.reference.buyer.tables import attempts, outbox
from sqlalchemy import (
    Connection,
    Row,
    bindparam,
    insert,
    or_,
    select,
    tuple_,
    update,
)

__all__ = ["Claim", "Identity", "Recorded", "claim", "record", "release", "release_orphans"]

_FREE = or_(outbox.c.lease_until.is_(None), outbox.c.lease_until <= bindparam("now"))
_DUE = (
    select(outbox.c.id)
    .where(
        outbox.c.status == PENDING,
        outbox.c.next_attempt_at <= bindparam("now"),
        _FREE,
        outbox.c.seq > bindparam("cursor"),
        outbox.c.id.not_in(bindparam("busy", expanding=True)),
    )
    .order_by(outbox.c.seq)
    .limit(bindparam("limit"))
)
_CLAIM = (  # one statement: the due events, leased if still free, returned
    update(outbox)
    .where(outbox.c.id.in_(_DUE.scalar_subquery()), outbox.c.status == PENDING, _FREE)
    .values(lease_owner=bindparam("owner"), lease_until=bindparam("until"))
    .returning(
        outbox.c.seq,
        outbox.c.id,
        outbox.c.path,
        outbox.c.payload,
        outbox.c.attempts,
        outbox.c.give_up_after,
    )
)
_HELD = select(outbox.c.id, outbox.c.lease_owner).where(
    tuple_(outbox.c.id, outbox.c.lease_owner).in_(bindparam("pairs", expanding=True))
)
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
    """One attempt of one event (claimed by ``owner``) and what follows from it."""

    owner: str
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


@dataclass
class Identity:
    """Who claims: this host and process, one dispatcher instance in it, a counter of claims."""

    host: str = field(default_factory=lambda: _host_tag(socket.gethostname()))
    pid: int = field(default_factory=os.getpid)
    instance: str = field(default_factory=lambda: secrets.token_hex(3))
    claims: int = 0

    @property
    def prefix(self) -> str:
        """What every owner token of this dispatcher starts with."""
        return f"{self.host}:{self.pid}:{self.instance}:"

    def next_owner(self) -> str:
        """A fresh owner token for one claim (at most 32 characters)."""
        self.claims += 1
        return f"{self.prefix}{self.claims:x}"

    def is_gone(self, owner: str, live_instances: set[str]) -> bool:
        """Whether ``owner`` names a dispatcher of this host that no longer runs."""
        host, pid, instance, *_ = [*owner.split(":"), "", "", ""]
        if host != self.host or not pid.isdigit():
            return False
        if int(pid) == self.pid:
            return instance not in live_instances
        return not _process_alive(int(pid))


def claim(
    conn: Connection,
    *,
    now: float,
    cursor: int,
    limit: int,
    lease: float,
    owner: str | None = None,
    busy: Sequence[str] = (),
) -> Claim:
    """Lease up to ``limit`` events due at ``now`` after ``cursor`` (by seq), except ``busy``."""
    owner = owner or secrets.token_hex(8)
    params = {"now": now, "cursor": cursor, "limit": limit, "busy": list(busy)}
    params |= {"owner": owner, "until": now + lease}
    events = sorted(conn.execute(_CLAIM, params).all(), key=lambda row: int(row.seq))
    return Claim(events, int(events[-1].seq) if events else cursor, owner)


def record(conn: Connection, results: Sequence[Recorded]) -> list[Recorded]:
    """Write the attempts of the events their owner still holds; returns those recorded."""
    held = set(conn.execute(_HELD, {"pairs": [(r.event_id, r.owner) for r in results]}).all())
    kept = [result for result in results if (result.event_id, result.owner) in held]
    if kept:
        conn.execute(_RECORD, [_consequence(result) for result in kept])
        conn.execute(insert(attempts), [_attempt(result) for result in kept])
    return kept


def release(conn: Connection, prefix: str) -> int:
    """Free the pending events leased by owners starting with ``prefix``; returns how many."""
    freed = (
        update(outbox)
        .where(outbox.c.status == PENDING, outbox.c.lease_owner.startswith(prefix, autoescape=True))
        .values(lease_owner=None, lease_until=None)
    )
    return int(conn.execute(freed).rowcount)


def release_orphans(conn: Connection, now: float, gone: Callable[[str], bool]) -> int:
    """Free the unlapsed leases whose owner is ``gone``; returns how many events were freed."""
    owners = select(outbox.c.lease_owner).distinct()
    owners = owners.where(outbox.c.status == PENDING, outbox.c.lease_until > now)
    orphans = [owner for owner in conn.execute(owners).scalars() if gone(owner)]
    if not orphans:
        return 0
    freed = (
        update(outbox)
        .where(outbox.c.status == PENDING, outbox.c.lease_owner.in_(orphans))
        .values(lease_owner=None, lease_until=None)
    )
    return int(conn.execute(freed).rowcount)


def _host_tag(hostname: str) -> str:
    return hashlib.sha256(hostname.encode()).hexdigest()[:8]


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


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
