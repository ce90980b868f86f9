"""Timer transitions: bids and counter-offers whose expiresAt has passed."""

from __future__ import annotations

from lotflow.reference.buyer import outbox
from lotflow.reference.buyer.bids import save_bid
from lotflow.reference.buyer.context import BuyerContext
from lotflow.reference.common import docstore

from lotflow.clock import isoformat


def expire_due(ctx: BuyerContext) -> int:
    now = ctx.clock.now()
    stamp = isoformat(now)
    bids, counters = ctx.tables.bids, ctx.tables.counters
    count = 0
    with ctx.db.write() as conn:
        for counter in docstore.find(
            conn, counters, counters.c.status == "pending", counters.c.expires_at < stamp
        ):
            expired = docstore.changed(counter, now, status="expired")
            docstore.update(
                conn,
                counters,
                expired,
                counter["version"],
                bid_id=counter["bidId"],
                status="expired",
            )
            bid = docstore.get(conn, bids, counter["bidId"])
            if bid is not None and bid["status"] == "countered":
                save_bid(conn, ctx, docstore.changed(bid, now, status="pending"), bid["version"])
            count += 1
        for bid in docstore.find(conn, bids, bids.c.status == "pending", bids.c.expires_at < stamp):
            lot = docstore.get(conn, ctx.tables.lots, bid["lotId"])
            assert lot is not None
            lapsed = docstore.changed(bid, now, status="expired", rejectionReason="expired")
            save_bid(conn, ctx, lapsed, bid["version"])
            outbox.bid_event(conn, ctx, "bid.rejected", lapsed, lot, reason="expired")
            count += 1
    return count
