"""The reference buyer's workflow: state machines, awards, idempotency, tenancy, business rules."""

from __future__ import annotations

import pytest

from lotflow.http import routes_of
from lotflow.openapi import load_portal_spec, operations
from tests.fixtures.buyer import API_KEY, LOT, TOKEN_B, Buyer

pytestmark = pytest.mark.anyio


async def test_routes_are_exactly_the_spec_operations(buyer: Buyer) -> None:
    expected = {
        (op.method.upper(), op.path) for op in operations(load_portal_spec("buyer")).values()
    }
    assert routes_of(buyer.app) == expected


async def test_the_app_serves_the_spec_it_implements(buyer: Buyer) -> None:
    served = (await buyer.client.get("/openapi.json")).json()
    assert served == load_portal_spec("buyer")


async def test_a_lot_goes_draft_published_and_producers_see_only_published(buyer: Buyer) -> None:
    draft = (await buyer.op("POST", "/api/lots", json=LOT)).json()["lot"]
    assert (draft["status"], draft["version"]) == ("draft", 1)
    listed = (
        await buyer.producer("GET", "/api/lots/external", params={"status": "published"})
    ).json()
    assert listed == {"lots": [], "count": 0}
    assert (await buyer.producer("GET", f"/api/lots/external/{draft['_id']}")).status_code == 404
    published = (await buyer.op("POST", f"/api/lots/{draft['_id']}/publish")).json()["lot"]
    assert (published["status"], published["version"]) == ("published", 2)
    listed = (
        await buyer.producer(
            "GET",
            "/api/lots/external",
            params={"status": "published", "standards": ["ISCC-EU"], "search": "hefa"},
        )
    ).json()
    assert [lot["_id"] for lot in listed["lots"]] == [draft["_id"]]


async def test_listing_defaults_to_published_lots(buyer: Buyer) -> None:
    await buyer.op("POST", "/api/lots", json=LOT)
    published = await buyer.published_lot()
    listed = (await buyer.producer("GET", "/api/lots/external")).json()
    assert [lot["_id"] for lot in listed["lots"]] == [published["_id"]]


async def test_an_illegal_transition_is_409_and_changes_nothing(buyer: Buyer) -> None:
    lot = await buyer.published_lot()
    response = await buyer.op("POST", f"/api/lots/{lot['_id']}/publish")
    assert response.status_code == 409
    problem = response.json()
    assert (problem["code"], problem["currentState"], problem["operation"]) == (
        "illegal_transition",
        "published",
        "publishLot",
    )
    assert (await buyer.op("GET", f"/api/lots/{lot['_id']}")).json()["lot"] == lot


async def test_another_organisation_sees_404_not_403(buyer: Buyer) -> None:
    lot = await buyer.published_lot()
    for method, url in (
        ("GET", f"/api/lots/{lot['_id']}"),
        ("POST", f"/api/lots/{lot['_id']}/publish"),
        ("DELETE", f"/api/lots/{lot['_id']}"),
    ):
        assert (await buyer.op(method, url, token=TOKEN_B)).status_code == 404
    assert (await buyer.op("GET", f"/api/lots/{lot['_id']}")).json()["lot"]["status"] == "published"


async def test_bid_submission_is_idempotent_on_lot_and_external_id(buyer: Buyer) -> None:
    lot = await buyer.published_lot()
    first = await buyer.bid(lot)
    body = {
        k: first[k]
        for k in ("lotId", "volume", "pricing", "bidderId", "bidderName", "externalBidId")
    }
    repeat = await buyer.producer("POST", "/api/bids", json=body)
    assert (repeat.status_code, repeat.json()["bid"]["_id"]) == (200, first["_id"])
    changed = await buyer.producer("POST", "/api/bids", json={**body, "bidderName": "Someone else"})
    assert (changed.status_code, changed.json()["code"]) == (409, "duplicate_external_bid")
    assert (await buyer.op("GET", f"/api/lots/{lot['_id']}/bids")).json()["count"] == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"pricing": {"price": 1, "currency": "USD", "pricePerUnit": 6.3}}, "inconsistent_pricing"),
        (
            {
                "volume": {"amount": 10, "unit": "liters"},
                "pricing": {"price": 63, "currency": "USD", "pricePerUnit": 6.3},
            },
            "volume_exceeds_lot",
        ),
        (
            {
                "volume": {"amount": 900000, "unit": "gallons"},
                "pricing": {"price": 5670000, "currency": "USD", "pricePerUnit": 6.3},
            },
            "volume_exceeds_lot",
        ),
    ],
)
async def test_bids_breaking_business_rules_are_422_naming_the_field(
    buyer: Buyer, change: dict[str, object], code: str
) -> None:
    lot = await buyer.published_lot()
    body = {
        "lotId": lot["_id"],
        "volume": {"amount": 10, "unit": "gallons"},
        "pricing": {"price": 63, "currency": "USD", "pricePerUnit": 6.3},
        "bidderId": "p",
        "bidderName": "P",
        "externalBidId": "x",
        **change,
    }
    response = await buyer.producer("POST", "/api/bids", json=body)
    assert (response.status_code, response.json()["code"]) == (422, code)
    assert response.json()["errors"][0]["field"].startswith(("/pricing", "/volume"))


async def test_unknown_fields_and_bad_json_are_refused(buyer: Buyer) -> None:
    unknown = await buyer.op("POST", "/api/lots", json={**LOT, "colour": "green"})
    assert unknown.status_code == 422
    assert "colour" in unknown.text
    broken = await buyer.op(
        "POST", "/api/lots", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert (broken.status_code, broken.json()["code"]) == (400, "invalid_json")


async def test_an_oversized_body_is_413_and_nothing_is_stored(buyer: Buyer) -> None:
    response = await buyer.op("POST", "/api/lots", json={**LOT, "description": "x" * 1_100_000})
    assert response.status_code == 413
    assert (await buyer.op("GET", "/api/lots")).json()["count"] == 0


async def test_accepting_creates_the_contract_and_rejects_the_other_bids(buyer: Buyer) -> None:
    lot = await buyer.published_lot()
    winner, loser = await buyer.bid(lot, "ext-1"), await buyer.bid(lot, "ext-2")
    decided = (
        await buyer.op(
            "PUT",
            f"/api/bids/{winner['_id']}",
            json={"status": "accepted", "contract": {"contractNumber": "NA-1"}},
        )
    ).json()
    assert decided["bid"]["status"] == "accepted"
    assert decided["contract"]["contractNumber"] == "NA-1"
    assert (await buyer.op("GET", f"/api/lots/{lot['_id']}")).json()["lot"]["status"] == "sold"
    other = (await buyer.op("GET", f"/api/bids/{loser['_id']}")).json()["bid"]
    assert (other["status"], other["rejectionReason"]) == ("rejected", "lot_awarded")
    again = await buyer.op("PUT", f"/api/bids/{loser['_id']}", json={"status": "accepted"})
    assert again.status_code == 409
    assert (await buyer.op("GET", "/api/contracts")).json()["count"] == 1


async def test_accepting_without_a_contract_reserves_the_lot_until_create_contract(
    buyer: Buyer,
) -> None:
    lot = await buyer.published_lot()
    bid = await buyer.bid(lot)
    decided = (
        await buyer.op(
            "PUT", f"/api/bids/{bid['_id']}", json={"status": "accepted", "createContract": False}
        )
    ).json()
    assert "contract" not in decided
    assert (await buyer.op("GET", f"/api/lots/{lot['_id']}")).json()["lot"]["status"] == "reserved"
    created = await buyer.op("POST", "/api/contracts", json={"bidId": bid["_id"], "terms": "FOB"})
    assert created.status_code == 201
    assert created.json()["contract"]["pricing"] == bid["pricing"]
    assert (await buyer.op("GET", f"/api/lots/{lot['_id']}")).json()["lot"]["status"] == "sold"
    assert (await buyer.op("POST", "/api/contracts", json={"bidId": bid["_id"]})).status_code == 409


async def test_a_counter_offer_is_answered_once(buyer: Buyer) -> None:
    lot = await buyer.published_lot()
    bid = await buyer.bid(lot)
    counter = (
        await buyer.op(
            "POST",
            f"/api/bids/{bid['_id']}/counter",
            json={"volume": {"amount": 100000, "unit": "gallons"}, "pricePerUnit": 6.4},
        )
    ).json()
    assert counter["counterOffer"]["price"] == 640000
    assert counter["bid"]["status"] == "countered"
    declined = await buyer.producer(
        "POST", f"/api/bids/{bid['_id']}/accept-counter", json={"accept": False}
    )
    assert declined.status_code == 200
    assert declined.json()["bid"]["status"] == "pending"
    twice = await buyer.producer(
        "POST", f"/api/bids/{bid['_id']}/accept-counter", json={"accept": True}
    )
    assert (twice.status_code, twice.json()["code"]) == (409, "illegal_transition")


async def test_an_accepted_counter_offer_makes_the_contract_with_its_terms(buyer: Buyer) -> None:
    lot = await buyer.published_lot()
    bid = await buyer.bid(lot)
    counter = (
        await buyer.op(
            "POST",
            f"/api/bids/{bid['_id']}/counter",
            json={"volume": {"amount": 80000, "unit": "gallons"}, "pricePerUnit": 6.4},
        )
    ).json()["counterOffer"]
    answer = (
        await buyer.producer(
            "POST",
            f"/api/bids/{bid['_id']}/accept-counter",
            json={"accept": True, "counterOfferId": counter["_id"]},
        )
    ).json()
    assert answer["success"] is True
    assert answer["contract"]["volume"] == {"amount": 80000, "unit": "gallons"}
    assert answer["contract"]["pricing"]["price"] == 512000
    assert answer["contract"]["counterOfferId"] == counter["_id"]
    kinds = [
        n["kind"] for n in (await buyer.op("GET", "/api/notifications")).json()["notifications"]
    ]
    assert kinds[:2] == ["counter_accepted", "contract_created"] or kinds[:2] == [
        "contract_created",
        "counter_accepted",
    ]


async def test_withdrawing_a_lot_withdraws_its_open_bids_and_keeps_the_record(buyer: Buyer) -> None:
    lot = await buyer.published_lot()
    bid = await buyer.bid(lot)
    assert (await buyer.op("DELETE", f"/api/lots/{lot['_id']}")).json()["lot"][
        "status"
    ] == "cancelled"
    assert (await buyer.op("GET", f"/api/lots/{lot['_id']}")).json()["lot"]["status"] == "cancelled"
    assert (
        await buyer.op("GET", f"/api/lots/{lot['_id']}/bids", params={"status": "withdrawn"})
    ).json()["count"] == 1
    assert (await buyer.producer("GET", f"/api/bids/external/{bid['_id']}")).json()["bid"][
        "status"
    ] == "withdrawn"
    late = await buyer.producer(
        "POST",
        "/api/bids",
        json={
            "lotId": lot["_id"],
            "volume": {"amount": 1, "unit": "gallons"},
            "pricing": {"price": 6.3, "currency": "USD", "pricePerUnit": 6.3},
            "bidderId": "p",
            "bidderName": "P",
            "externalBidId": "late",
        },
    )
    assert (late.status_code, late.json()["code"]) == (409, "lot_not_open")


async def test_an_expired_bid_is_rejected_by_the_sweep(buyer: Buyer) -> None:
    lot = await buyer.published_lot()
    body = {
        "lotId": lot["_id"],
        "volume": {"amount": 10, "unit": "gallons"},
        "pricing": {"price": 63, "currency": "USD", "pricePerUnit": 6.3},
        "bidderId": "p",
        "bidderName": "P",
        "externalBidId": "soon",
        "expiresAt": "2026-11-25T10:00:00Z",
    }
    bid = (await buyer.producer("POST", "/api/bids", json=body)).json()["bid"]
    assert buyer.dispatcher.sweep() == 0
    buyer.clock.advance(3601)
    assert buyer.dispatcher.sweep() == 1
    assert (await buyer.op("GET", f"/api/bids/{bid['_id']}")).json()["bid"]["status"] == "expired"


async def test_notifications_tell_the_buyer_what_happened(buyer: Buyer) -> None:
    lot = await buyer.published_lot()
    await buyer.bid(lot)
    listed = (await buyer.op("GET", "/api/notifications", params={"unread": "true"})).json()
    assert [n["kind"] for n in listed["notifications"]] == ["bid_received", "lot_published"]
    assert listed["notifications"][0]["message"].startswith(f"New bid received on {LOT['title']}")
    first = listed["notifications"][0]["_id"]
    assert (await buyer.op("POST", f"/api/notifications/{first}/read")).json()["notification"][
        "readAt"
    ]
    assert (await buyer.op("GET", "/api/notifications", params={"unread": "true"})).json()[
        "count"
    ] == 1


async def test_the_api_key_is_accepted_as_bearer_too_and_wrong_keys_get_401(buyer: Buyer) -> None:
    ok = await buyer.client.get(
        "/api/lots/external",
        params={"status": "published"},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert ok.status_code == 200
    wrong = await buyer.client.get(
        "/api/lots/external", params={"status": "published"}, headers={"X-API-Key": API_KEY + "x"}
    )
    assert (wrong.status_code, wrong.json()["code"]) == (401, "unauthorized")
