"""What arbitrates races on any database (not only SQLite's single writer): conditional updates
on the version read, and unique keys, with the losing transaction rolled back whole."""

from __future__ import annotations

import json
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


async def test_a_duplicate_that_wins_the_race_is_answered_as_a_replay(portal: Portal) -> None:
    """With concurrent writers the existence check can miss a duplicate inserted a moment later;
    the unique key then refuses the insert and the loser answers with the winner's bid. SQLite
    serialises writers, so that window never opens here (the concurrency tests run into it on
    PostgreSQL): the unique key's refusal is raised for real and handed to the loser's path."""
    lot = await portal.published_lot()
    winner = await portal.bid(lot)
    with pytest.raises(IntegrityError) as refused, portal.ctx.db.write() as conn:
        store.insert(conn, BID, {**winner, "_id": "f" * 24}, terms_hash="x")
    lost = ConflictError("A unique key refused the write.", "conflict")
    lost.__cause__ = refused.value

    def loser(body: dict[str, Any]) -> Any:
        return bids_module.replay_after_race(portal.ctx, body, bids_module.terms_hash(body), lost)

    replay = loser(bid_body(lot["_id"]))
    assert (replay.status, json.loads(replay.raw_json)["bid"]["_id"]) == (200, winner["_id"])
    with pytest.raises(ConflictError) as other_terms:
        loser(bid_body(lot["_id"], per_unit=6.2))
    assert other_terms.value.code == "duplicate_external_bid"
    with pytest.raises(ConflictError) as passed_on:  # not the idempotency key: passed on as is
        loser(bid_body(lot["_id"], external="never-stored"))
    assert passed_on.value is lost
    assert portal.count(bids) == 1
