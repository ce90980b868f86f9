"""What arbitrates races on any database (not only SQLite's single writer): conditional updates
on the version read, and unique keys, with the losing transaction rolled back whole."""

from __future__ import annotations

from typing import Any

import pytest
from lotflow.reference.buyer import bids as bids_module
from lotflow.reference.buyer.kinds import BID, CONTRACT, LOT
from lotflow.reference.buyer.tables import bids, outbox
from lotflow.reference.common import store
from lotflow.reference.common.store import StaleWrite
from sqlalchemy.exc import IntegrityError

from lotflow.errors import ConflictError
from tests.reference.buyer.portal import Portal, bid_body

pytestmark = pytest.mark.anyio

LATER = "2026-11-25T09:00:01.000Z"


async def test_a_write_based_on_a_stale_version_changes_nothing(portal: Portal) -> None:
    lot = await portal.published_lot()
    first = store.revise(lot, LATER, title="First")
    second = store.revise(lot, LATER, title="Second")
    with portal.ctx.db.write() as conn:
        store.save(conn, LOT, lot, first)
    with pytest.raises(StaleWrite), portal.ctx.db.write() as conn:
        store.save(conn, LOT, lot, second)
    assert (await portal.lot(lot["_id"]))["title"] == "First"


async def test_a_stale_write_inside_a_request_is_a_409_that_rolls_everything_back(
    portal: Portal,
) -> None:
    """A transaction that changed a lot (and queued its lot.updated) and then writes over a
    stale read of another revision loses everything: the change, the event, the write."""
    lot = await portal.published_lot()
    events = portal.count(outbox)
    stale = {**lot, "version": lot["version"] - 1}

    def change_based_on_the_stale_read() -> None:
        with portal.ctx.transaction() as tx:
            tx.move(LOT, lot, "updateLot", "published", title="Changed first")
            store.save(tx.conn, LOT, stale, store.revise(stale, tx.stamp, title="Lost"))

    with pytest.raises(ConflictError) as refused:
        change_based_on_the_stale_read()
    assert refused.value.code == "version_conflict"
    assert portal.count(outbox) == events
    assert await portal.lot(lot["_id"]) == lot


async def test_one_contract_per_lot_and_per_bid_is_a_database_rule(portal: Portal) -> None:
    lot = await portal.published_lot()
    bid = await portal.bid(lot)
    accepted = await portal.op("PUT", f"/api/bids/{bid['_id']}", json={"status": "accepted"})
    contract = accepted.json()["contract"]
    for change in ({"bidId": "0" * 24}, {"lotId": "0" * 24}):
        twin = {**contract, "_id": "f" * 24, **change}
        with pytest.raises(IntegrityError), portal.ctx.db.write() as conn:
            store.insert(conn, CONTRACT, twin)


async def test_one_bid_per_lot_and_external_id_is_a_database_rule(portal: Portal) -> None:
    lot = await portal.published_lot()
    bid = await portal.bid(lot)
    with pytest.raises(IntegrityError), portal.ctx.db.write() as conn:
        store.insert(conn, BID, {**bid, "_id": "f" * 24}, terms_hash="x")


async def test_a_duplicate_that_wins_the_race_is_answered_as_a_replay(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With concurrent writers the existence check can miss a duplicate inserted a moment later;
    the unique key then refuses the insert and the loser answers with the winner's bid. (SQLite
    serialises writers, so the check is skipped here to open that window; the concurrency tests
    run into it for real on PostgreSQL.)"""
    lot = await portal.published_lot()
    winner = await portal.bid(lot)
    real = bids_module._by_external_id
    calls: list[Any] = []

    def miss_once(*args: Any) -> Any:
        calls.append(args)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(bids_module, "_by_external_id", miss_once)
    replay = await portal.producer("POST", "/api/bids", json=bid_body(lot["_id"]))
    assert (replay.status_code, replay.json()["bid"]["_id"]) == (200, winner["_id"])
    calls.clear()
    other = await portal.producer("POST", "/api/bids", json=bid_body(lot["_id"], per_unit=6.2))
    assert (other.status_code, other.json()["code"]) == (409, "duplicate_external_bid")
    assert portal.count(bids) == 1
