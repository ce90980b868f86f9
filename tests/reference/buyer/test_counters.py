"""Counter-offers: made on pending bids, priced consistently, answered by the producer once."""

from __future__ import annotations

from typing import Any

import pytest
from lotflow.reference.buyer.tables import contracts

from tests.reference.buyer.portal import Portal

pytestmark = pytest.mark.anyio

COUNTER = {"volume": {"amount": 100000, "unit": "gallons"}, "pricePerUnit": 6.4, "message": "6.40"}


async def countered(
    portal: Portal, **terms: Any
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A published lot, a bid on it, and the buyer's counter-offer (lot, bid, counter)."""
    lot = await portal.published_lot()
    bid = await portal.bid(lot)
    response = await portal.op("POST", f"/api/bids/{bid['_id']}/counter", json={**COUNTER, **terms})
    assert response.status_code == 201, response.text
    return lot, response.json()["bid"], response.json()["counterOffer"]


async def answer(portal: Portal, bid_id: str, **body: Any) -> Any:
    return await portal.producer("POST", f"/api/bids/{bid_id}/accept-counter", json=body)


async def test_a_counter_offer_computes_its_total_and_sends_bid_counter_offer(
    portal: Portal,
) -> None:
    _, bid, counter = await countered(portal)
    assert (bid["status"], bid["counterOfferId"], bid["version"]) == (
        "countered",
        counter["_id"],
        2,
    )
    assert (counter["price"], counter["currency"], counter["status"], counter["version"]) == (
        640000,
        "USD",
        "pending",
        1,
    )
    payload = (await portal.deliveries(event="bid.counter_offer"))[0]["payload"]
    assert (payload["counterOffer"], payload["bid"]) == (counter, bid)


async def test_a_given_total_must_match_within_a_cent(portal: Portal) -> None:
    lot = await portal.published_lot()
    bid = await portal.bid(lot)
    url = f"/api/bids/{bid['_id']}/counter"
    wrong = await portal.op("POST", url, json={**COUNTER, "price": 640000.5})
    problem = wrong.json()
    assert (wrong.status_code, problem["code"], problem["errors"][0]["field"]) == (
        422,
        "inconsistent_pricing",
        "/price",
    )
    unit = await portal.op("POST", url, json={**COUNTER, "volume": {"amount": 1, "unit": "MT"}})
    assert (unit.status_code, unit.json()["code"]) == (422, "unit_mismatch")
    assert (await portal.bid_detail(bid["_id"]))["bid"]["status"] == "pending"
    right = await portal.op("POST", url, json={**COUNTER, "price": 640000.01})
    assert right.status_code == 201


async def test_only_one_open_counter_offer_per_bid(portal: Portal) -> None:
    _, bid, _ = await countered(portal)
    response = await portal.op("POST", f"/api/bids/{bid['_id']}/counter", json=COUNTER)
    assert (response.status_code, response.json()["currentState"]) == (409, "countered")


async def test_accepting_the_counter_offer_makes_the_contract_on_its_terms(portal: Portal) -> None:
    lot, bid, counter = await countered(portal, paymentTerms="Net 30")
    other = await portal.bid(lot, "ext-2")
    response = await answer(portal, bid["_id"], accept=True, counterOfferId=counter["_id"])
    result = response.json()
    assert (response.status_code, result["success"]) == (200, True)
    expected = {"price": 640000, "currency": "USD", "pricePerUnit": 6.4, "paymentTerms": "Net 30"}
    assert (result["bid"]["status"], result["bid"]["pricing"]) == ("accepted", expected)
    answered = result["counterOffer"]
    assert (answered["status"], answered["respondedAt"]) == ("accepted", "2026-11-25T09:00:00.000Z")
    assert (result["contract"]["pricing"], result["contract"]["counterOfferId"]) == (
        expected,
        counter["_id"],
    )
    assert (await portal.lot(lot["_id"]))["status"] == "sold"
    assert (await portal.bid_detail(other["_id"]))["bid"]["rejectionReason"] == "lot_awarded"
    accepted = (await portal.deliveries(event="bid.accepted"))[0]["payload"]
    assert accepted["counterOffer"]["status"] == "accepted"
    assert accepted["contract"]["_id"] == result["contract"]["_id"]
    notes = (await portal.op("GET", "/api/notifications")).json()["notifications"]
    assert [n["kind"] for n in notes[:2]] == ["contract_created", "counter_accepted"]


async def test_declining_returns_the_bid_to_pending_and_a_second_answer_is_refused(
    portal: Portal,
) -> None:
    _, bid, _ = await countered(portal)
    result = (await answer(portal, bid["_id"], accept=False)).json()
    assert (result["bid"]["status"], result["counterOffer"]["status"]) == ("pending", "declined")
    note = (await portal.op("GET", "/api/notifications")).json()["notifications"][0]
    assert note["kind"] == "counter_declined"
    before, events = await portal.bid_detail(bid["_id"]), await portal.events()
    for accept in (True, False):
        again = await answer(portal, bid["_id"], accept=accept)
        assert (again.status_code, again.json()["code"]) == (409, "illegal_transition")
    assert await portal.bid_detail(bid["_id"]) == before
    assert await portal.events() == events
    assert portal.count(contracts) == 0
    # the original terms still stand
    accepted = await portal.op("PUT", f"/api/bids/{bid['_id']}", json={"status": "accepted"})
    assert accepted.json()["contract"]["pricing"] == bid["pricing"]


async def test_an_accepted_counter_offer_cannot_be_answered_again(portal: Portal) -> None:
    _, bid, _ = await countered(portal)
    await answer(portal, bid["_id"], accept=True)
    again = await answer(portal, bid["_id"], accept=True)
    assert (again.status_code, again.json()["code"]) == (409, "illegal_transition")
    assert portal.count(contracts) == 1


async def test_an_answer_naming_another_counter_offer_is_refused(portal: Portal) -> None:
    _, bid, counter = await countered(portal)
    response = await answer(portal, bid["_id"], accept=True, counterOfferId="0" * 24)
    assert (response.status_code, response.json()["code"]) == (409, "counter_offer_mismatch")
    assert response.json()["currentCounterOfferId"] == counter["_id"]


async def test_a_bid_that_was_never_countered_takes_no_answer(portal: Portal) -> None:
    lot = await portal.published_lot()
    bid = await portal.bid(lot)
    for accept in (True, False):
        response = await answer(portal, bid["_id"], accept=accept)
        assert (response.status_code, response.json()["currentState"]) == (409, "pending")


async def test_rejecting_a_countered_bid_withdraws_the_counter_offer(portal: Portal) -> None:
    _, bid, _ = await countered(portal)
    await portal.op("PUT", f"/api/bids/{bid['_id']}", json={"status": "rejected"})
    detail = await portal.bid_detail(bid["_id"])
    assert (detail["bid"]["status"], detail["counterOffer"]["status"]) == ("rejected", "withdrawn")


async def test_accepting_one_bids_counter_withdraws_the_other_bids_counter(portal: Portal) -> None:
    lot, bid, _ = await countered(portal)
    other = await portal.bid(lot, "ext-2")
    await portal.op("POST", f"/api/bids/{other['_id']}/counter", json=COUNTER)
    await answer(portal, bid["_id"], accept=True)
    detail = await portal.bid_detail(other["_id"])
    assert (detail["bid"]["status"], detail["counterOffer"]["status"]) == ("rejected", "withdrawn")
