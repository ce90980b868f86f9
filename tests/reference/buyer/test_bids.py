"""Bids: submission rules, idempotency on (lotId, externalBidId), decisions, awards, contracts."""

from __future__ import annotations

from typing import Any

import pytest
from lotflow.reference.buyer.tables import bids, contracts

from tests.reference.buyer.portal import ORG_A, Portal, bid_body

pytestmark = pytest.mark.anyio


async def test_a_submitted_bid_is_pending_from_the_producer_dashboard_and_the_buyer_is_told(
    portal: Portal,
) -> None:
    lot = await portal.published_lot()
    response = await portal.producer("POST", "/api/bids", json=bid_body(lot["_id"]))
    bid = response.json()["bid"]
    assert response.status_code == 201
    assert (bid["status"], bid["source"], bid["version"], bid["buyerOrgId"]) == (
        "pending",
        "producer-dashboard",
        1,
        ORG_A,
    )
    unread = await portal.op("GET", "/api/notifications", params={"unread": True})
    note = unread.json()["notifications"][0]
    assert (note["kind"], note["bidId"]) == ("bid_received", bid["_id"])
    assert note["message"].startswith(f"New bid received on {lot['title']}")
    assert (await portal.lot(lot["_id"]))["version"] == lot["version"]  # the lot did not change


async def test_the_same_submission_again_answers_200_with_the_stored_bid(portal: Portal) -> None:
    lot = await portal.published_lot()
    first = await portal.producer("POST", "/api/bids", json=bid_body(lot["_id"]))
    body = bid_body(lot["_id"])
    body["pricing"]["price"] = float(body["pricing"]["price"])  # the same number, written otherwise
    again = await portal.producer("POST", "/api/bids", json=body)
    assert (again.status_code, again.json()) == (200, first.json())
    assert portal.count(bids) == 1


async def test_the_same_external_id_with_other_terms_is_a_409(portal: Portal) -> None:
    lot = await portal.published_lot()
    first = await portal.bid(lot)
    other = bid_body(lot["_id"], per_unit=6.4)
    response = await portal.producer("POST", "/api/bids", json=other)
    assert (response.status_code, response.json()["code"]) == (409, "duplicate_external_bid")
    assert response.json()["bidId"] == first["_id"]
    assert portal.count(bids) == 1


async def test_the_same_external_id_on_another_lot_is_another_bid(portal: Portal) -> None:
    one, two = await portal.published_lot(), await portal.published_lot()
    assert (await portal.bid(one))["_id"] != (await portal.bid(two))["_id"]


TOO_MUCH = {
    "volume": {"amount": 600000, "unit": "gallons"},
    "pricing": {"price": 3780000, "currency": "USD", "pricePerUnit": 6.3},
}


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        (
            {"pricing": {"price": 1, "currency": "USD", "pricePerUnit": 6.3}},
            "inconsistent_pricing",
            "/pricing/price",
        ),
        ({"volume": {"amount": 100000, "unit": "liters"}}, "unit_mismatch", "/volume/unit"),
        (TOO_MUCH, "volume_exceeds_lot", "/volume/amount"),
    ],
)
async def test_a_bid_breaking_a_rule_is_a_422_naming_the_field(
    portal: Portal, change: dict[str, Any], code: str, field: str
) -> None:
    lot = await portal.published_lot()
    response = await portal.producer("POST", "/api/bids", json={**bid_body(lot["_id"]), **change})
    problem = response.json()
    assert (response.status_code, problem["code"], problem["errors"][0]["field"]) == (
        422,
        code,
        field,
    )
    assert portal.count(bids) == 0


async def test_bids_on_drafts_are_404_and_on_closed_lots_409(portal: Portal) -> None:
    draft = await portal.draft_lot()
    assert (
        await portal.producer("POST", "/api/bids", json=bid_body(draft["_id"]))
    ).status_code == 404
    lot = await portal.published_lot()
    await portal.op("DELETE", f"/api/lots/{lot['_id']}")
    response = await portal.producer("POST", "/api/bids", json=bid_body(lot["_id"]))
    assert (response.status_code, response.json()["code"]) == (409, "lot_not_open")


async def test_a_replay_after_the_lot_closed_still_answers_the_stored_bid(portal: Portal) -> None:
    lot = await portal.published_lot()
    bid = await portal.bid(lot)
    await portal.op("PUT", f"/api/bids/{bid['_id']}", json={"status": "accepted"})
    response = await portal.producer("POST", "/api/bids", json=bid_body(lot["_id"]))
    assert (response.status_code, response.json()["bid"]["status"]) == (200, "accepted")


async def test_producers_read_their_bid_with_its_counter_offer_and_contract(portal: Portal) -> None:
    lot = await portal.published_lot()
    bid = await portal.bid(lot)
    assert (await portal.producer("GET", f"/api/bids/external/{bid['_id']}")).json() == {"bid": bid}
    await portal.op("PUT", f"/api/bids/{bid['_id']}", json={"status": "accepted"})
    detail = (await portal.producer("GET", f"/api/bids/external/{bid['_id']}")).json()
    assert detail["bid"]["contractId"] == detail["contract"]["_id"]
    external = await portal.producer("GET", f"/api/contracts/external/{detail['contract']['_id']}")
    assert external.json() == {"contract": detail["contract"]}


async def test_the_lots_bids_are_listed_oldest_first(portal: Portal) -> None:
    lot = await portal.published_lot()
    made = []
    for index in range(3):
        made.append((await portal.bid(lot, f"ext-{index}"))["_id"])
        portal.clock.advance(1)
    listed = (await portal.op("GET", f"/api/lots/{lot['_id']}/bids", params={"limit": 2})).json()
    assert (listed["count"], [b["_id"] for b in listed["bids"]]) == (3, made[:2])
    await portal.op("PUT", f"/api/bids/{made[1]}", json={"status": "rejected"})
    params = {"status": "rejected"}
    rejected = (await portal.op("GET", f"/api/lots/{lot['_id']}/bids", params=params)).json()
    assert [b["_id"] for b in rejected["bids"]] == [made[1]]


# ---------------------------------------------------------------------------------- decisions


async def test_accepting_a_bid_makes_the_contract_sells_the_lot_and_rejects_the_others(
    portal: Portal,
) -> None:
    lot = await portal.published_lot()
    winner, loser = await portal.bid(lot, "ext-1"), await portal.bid(lot, "ext-2")
    terms = {"contractNumber": "NA-2026-0042", "terms": "FOB Rotterdam"}
    body = {"status": "accepted", "contract": terms}
    result = (await portal.op("PUT", f"/api/bids/{winner['_id']}", json=body)).json()
    contract = result["contract"]
    assert (result["bid"]["status"], result["bid"]["version"], result["bid"]["contractId"]) == (
        "accepted",
        2,
        contract["_id"],
    )
    assert (contract["contractNumber"], contract["status"], contract["terms"]) == (
        "NA-2026-0042",
        "draft",
        "FOB Rotterdam",
    )
    assert (contract["pricing"], contract["volume"]) == (winner["pricing"], winner["volume"])
    assert (contract["sellerOrgId"], contract["externalBidId"]) == (winner["bidderId"], "ext-1")
    assert (await portal.lot(lot["_id"]))["status"] == "sold"
    lost = (await portal.bid_detail(loser["_id"]))["bid"]
    assert (lost["status"], lost["rejectionReason"]) == ("rejected", "lot_awarded")
    assert await portal.events() == [
        "lot.published",
        "bid.accepted",
        "contract.created",
        "bid.rejected",
        "lot.updated",
    ]
    accepted_event = (await portal.deliveries(event="bid.accepted"))[0]["payload"]
    assert accepted_event["contract"] == contract
    assert accepted_event["lot"]["status"] == "sold"
    rejected_event = (await portal.deliveries(event="bid.rejected"))[0]["payload"]
    assert (rejected_event["reason"], rejected_event["bid"]["_id"]) == ("lot_awarded", loser["_id"])
    notes = (await portal.op("GET", "/api/notifications")).json()["notifications"]
    assert notes[0]["kind"] == "contract_created"


async def test_a_bid_accepted_without_a_contract_reserves_the_lot_until_create_contract(
    portal: Portal,
) -> None:
    lot = await portal.published_lot()
    bid = await portal.bid(lot)
    body = {"status": "accepted", "createContract": False}
    result = (await portal.op("PUT", f"/api/bids/{bid['_id']}", json=body)).json()
    assert "contract" not in result
    assert result["bid"]["contractId"] is None
    assert (await portal.lot(lot["_id"]))["status"] == "reserved"
    assert (await portal.deliveries(event="bid.accepted"))[0]["payload"].get("contract") is None
    assert portal.count(contracts) == 0
    response = await portal.op("POST", "/api/contracts", json={"bidId": bid["_id"], "terms": "FOB"})
    contract = response.json()["contract"]
    assert (response.status_code, contract["terms"], contract["pricing"]) == (
        201,
        "FOB",
        bid["pricing"],
    )
    assert (await portal.lot(lot["_id"]))["status"] == "sold"
    assert (await portal.bid_detail(bid["_id"]))["bid"]["contractId"] == contract["_id"]
    assert (await portal.events())[-2:] == ["contract.created", "lot.updated"]
    again = await portal.op("POST", "/api/contracts", json={"bidId": bid["_id"]})
    assert (again.status_code, again.json()["code"]) == (409, "contract_exists")
    assert portal.count(contracts) == 1


async def test_a_contract_needs_an_accepted_bid(portal: Portal) -> None:
    lot = await portal.published_lot()
    bid = await portal.bid(lot)
    response = await portal.op("POST", "/api/contracts", json={"bidId": bid["_id"]})
    assert (response.status_code, response.json()["currentState"]) == (409, "pending")


async def test_rejecting_a_bid_sends_the_buyers_reason(portal: Portal) -> None:
    lot = await portal.published_lot()
    bid = await portal.bid(lot)
    body = {"status": "rejected", "reason": "Price above our ceiling."}
    rejected = (await portal.op("PUT", f"/api/bids/{bid['_id']}", json=body)).json()["bid"]
    assert (rejected["status"], rejected["rejectionReason"]) == (
        "rejected",
        "Price above our ceiling.",
    )
    payload = (await portal.deliveries(event="bid.rejected"))[0]["payload"]
    assert payload["reason"] == "Price above our ceiling."
    assert (await portal.lot(lot["_id"]))["status"] == "published"


@pytest.mark.parametrize("second", [{"status": "accepted"}, {"status": "rejected"}])
async def test_a_decided_bid_cannot_be_decided_again(
    portal: Portal, second: dict[str, Any]
) -> None:
    lot = await portal.published_lot()
    bid = await portal.bid(lot)
    await portal.op("PUT", f"/api/bids/{bid['_id']}", json={"status": "rejected"})
    before, lot_before = await portal.bid_detail(bid["_id"]), await portal.lot(lot["_id"])
    events = await portal.events()
    response = await portal.op("PUT", f"/api/bids/{bid['_id']}", json=second)
    problem = response.json()
    assert (response.status_code, problem["code"], problem["currentState"]) == (
        409,
        "illegal_transition",
        "rejected",
    )
    assert await portal.bid_detail(bid["_id"]) == before
    assert await portal.lot(lot["_id"]) == lot_before
    assert await portal.events() == events


async def test_a_contract_moves_along_its_lifecycle_only(portal: Portal) -> None:
    lot = await portal.published_lot()
    bid = await portal.bid(lot)
    accepted = await portal.op("PUT", f"/api/bids/{bid['_id']}", json={"status": "accepted"})
    url = f"/api/contracts/{accepted.json()['contract']['_id']}"
    skipped = await portal.op("PATCH", url, json={"status": "active"})
    assert (skipped.status_code, skipped.json()["currentState"]) == (409, "draft")
    steps = (("pending_signature", 2), ("signed", 3), ("active", 4), ("completed", 5))
    for status, version in steps:
        moved = (await portal.op("PATCH", url, json={"status": status})).json()["contract"]
        assert (moved["status"], moved["version"]) == (status, version)
    assert (await portal.op("PATCH", url, json={"status": "cancelled"})).status_code == 409
    listed = (await portal.op("GET", "/api/contracts", params={"status": "completed"})).json()
    assert (listed["count"], listed["contracts"][0]["_id"]) == (1, url.rsplit("/", 1)[1])
    events = await portal.events()
    assert events.count("contract.created") == 1  # and no contract-update event
    assert len(events) == 4
