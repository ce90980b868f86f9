"""Timers: bids and counter-offers expire when their expiresAt passes (the dispatcher's sweep)."""

from __future__ import annotations

import pytest

from tests.reference.buyer.portal import Portal

pytestmark = pytest.mark.anyio

SOON = "2026-11-25T10:00:00Z"  # an hour after the portal's clock starts
COUNTER = {"volume": {"amount": 1000, "unit": "gallons"}, "pricePerUnit": 6.4}


async def test_an_expired_bid_is_rejected_with_reason_expired_and_its_producer_is_told(
    portal: Portal,
) -> None:
    lot = await portal.published_lot()
    bid = await portal.bid(lot, expiresAt="2026-11-25T09:02:00Z")
    dispatcher = portal.dispatcher()
    await dispatcher.run_once()
    assert (await portal.bid_detail(bid["_id"]))["bid"]["status"] == "pending"
    assert dispatcher.seconds_until_due() == pytest.approx(120)  # the loop sleeps until then
    portal.clock.advance(120)
    await dispatcher.run_once()
    expired = (await portal.bid_detail(bid["_id"]))["bid"]
    assert (expired["status"], expired["rejectionReason"], expired["version"]) == (
        "expired",
        "expired",
        2,
    )
    told = [b for b in portal.receiver.bodies() if b["event"] == "bid.rejected"]
    assert [(b["reason"], b["bid"]["_id"], b["bid"]["status"]) for b in told] == [
        ("expired", bid["_id"], "expired")
    ]
    await dispatcher.aclose()


async def test_a_bid_past_its_expiry_cannot_be_decided_even_before_the_sweep(
    portal: Portal,
) -> None:
    lot = await portal.published_lot()
    bid = await portal.bid(lot, expiresAt=SOON)
    portal.clock.advance(3601)
    response = await portal.op("PUT", f"/api/bids/{bid['_id']}", json={"status": "accepted"})
    assert (response.status_code, response.json()["currentState"]) == (409, "expired")
    assert (await portal.lot(lot["_id"]))["status"] == "published"


async def test_an_expired_counter_offer_returns_its_bid_to_pending(portal: Portal) -> None:
    lot = await portal.published_lot()
    bid = await portal.bid(lot)
    await portal.op("POST", f"/api/bids/{bid['_id']}/counter", json={**COUNTER, "expiresAt": SOON})
    url = f"/api/bids/{bid['_id']}/accept-counter"
    portal.clock.advance(3600)
    before_sweep = await portal.producer("POST", url, json={"accept": True})
    assert (before_sweep.status_code, before_sweep.json()["currentState"]) == (409, "expired")
    dispatcher = portal.dispatcher()
    await dispatcher.run_once()
    detail = await portal.bid_detail(bid["_id"])
    assert (detail["bid"]["status"], detail["counterOffer"]["status"]) == ("pending", "expired")
    after = await portal.producer("POST", url, json={"accept": True})
    assert (after.status_code, after.json()["code"]) == (409, "illegal_transition")
    again = await portal.op("POST", f"/api/bids/{bid['_id']}/counter", json=COUNTER)
    assert again.status_code == 201
    await dispatcher.aclose()


async def test_a_counter_offer_answered_in_time_is_accepted(portal: Portal) -> None:
    lot = await portal.published_lot()
    bid = await portal.bid(lot)
    await portal.op("POST", f"/api/bids/{bid['_id']}/counter", json={**COUNTER, "expiresAt": SOON})
    portal.clock.advance(3599)
    url = f"/api/bids/{bid['_id']}/accept-counter"
    assert (await portal.producer("POST", url, json={"accept": True})).status_code == 200


async def test_an_expiry_in_any_time_zone_is_compared_as_an_instant(portal: Portal) -> None:
    lot = await portal.published_lot()
    bid = await portal.bid(lot, expiresAt="2026-11-25T11:30:00+02:00")  # 09:30Z
    portal.clock.advance(1799)
    dispatcher = portal.dispatcher()
    await dispatcher.run_once()
    assert (await portal.bid_detail(bid["_id"]))["bid"]["status"] == "pending"
    portal.clock.advance(1)
    await dispatcher.run_once()
    assert (await portal.bid_detail(bid["_id"]))["bid"]["status"] == "expired"
    await dispatcher.aclose()
