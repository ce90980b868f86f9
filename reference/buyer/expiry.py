"""The expiry sweep, run by the dispatcher loop: the timer transitions of spec/workflow.yaml.

A pending counter-offer whose ``expiresAt`` passed becomes expired and its bid pending again; a
pending bid whose ``expiresAt`` passed becomes expired and its producer gets bid.rejected with
reason ``expired`` (the events are the timer transition's own). Which states a timer moves is
read from the machines, not restated here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lotflow.reference.buyer.kinds import BID, COUNTER
from lotflow.reference.buyer.tables import bids, counter_offers
from lotflow.reference.common import store
from sqlalchemy import Connection, func, select

from lotflow.errors import SpecError
from lotflow.workflow import StateMachine, Transition

if TYPE_CHECKING:
    from lotflow.reference.buyer.context import BuyerContext, Tx

__all__ = ["next_expiry", "sweep"]

EXPIRED = "expired"
BATCH = 200


def sweep(ctx: BuyerContext) -> int:
    """Expire what is due now; returns how many bids and counter-offers expired (a read, and no
    write transaction at all, when nothing is due)."""
    with ctx.db.read() as conn:
        due = next_expiry(conn)
    if due is None or due > ctx.stamp():
        return 0
    total = 0
    while True:
        with ctx.transaction() as tx:
            done = _expire_counters(tx) + _expire_bids(tx)
        total += done
        if done < BATCH:
            return total


def _timer(machine: StateMachine, source: str, target: str) -> Transition:
    """The machine's timer transition from ``source`` to ``target``."""
    for t in machine.transitions:
        if t.cause.kind == "timer" and source in t.source and t.target == target:
            return t
    raise SpecError(f"{machine.name} has no timer transition {source} → {target}.")


def _expire_counters(tx: Tx) -> int:
    ctx = tx.ctx
    expire = _timer(ctx.machine(COUNTER), "pending", EXPIRED)
    back_to_pending = _timer(ctx.machine(BID), "countered", "pending")
    due = store.fetch_where(
        tx.conn,
        COUNTER,
        counter_offers.c.status.in_(expire.source),
        counter_offers.c.expires_at <= tx.stamp,
        limit=BATCH,
    )
    for counter in due:  # the bid before its counter-offer, the portal's one order of writes
        bid = store.fetch(tx.conn, BID, counter["bidId"], status="countered")
        if bid is not None and bid.get("counterOfferId") == counter["_id"]:
            tx.move(BID, bid, back_to_pending.cause.name, back_to_pending.target)
        tx.move(COUNTER, counter, expire.cause.name, EXPIRED)
    return len(due)


def _expire_bids(tx: Tx) -> int:
    timer = _timer(tx.ctx.machine(BID), "pending", EXPIRED)
    due = store.fetch_where(
        tx.conn, BID, bids.c.status.in_(timer.source), bids.c.expires_at <= tx.stamp, limit=BATCH
    )
    said = {"reason": EXPIRED}
    for bid in due:
        tx.move(BID, bid, timer.cause.name, EXPIRED, say=said, rejectionReason=EXPIRED)
    return len(due)


def next_expiry(conn: Connection) -> str | None:
    """The earliest ``expiresAt`` stamp among pending bids and counter-offers."""
    found = [
        conn.execute(
            select(func.min(table.c.expires_at)).where(table.c.status == "pending")
        ).scalar()
        for table in (bids, counter_offers)
    ]
    stamps = [stamp for stamp in found if stamp is not None]
    return min(stamps) if stamps else None
