"""The producer's own actions: bids sent to the buyer, the buyer's refusals passed on,
reconciliation."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from lotflow.http import routes_of
from lotflow.openapi import load_portal_spec, operations, validator_for
from tests.fixtures.producer import LOT_ID, TOKEN_B, Producer, buyer_bid, buyer_lot, contract_of

pytestmark = pytest.mark.anyio
BID = {
    "lotId": LOT_ID,
    "volume": {"amount": 1000, "unit": "gallons"},
    "pricing": {"price": 6300, "currency": "USD", "pricePerUnit": 6.3},
}


def problem(status: int, code: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={
            "type": f"https://lotflow.dev/problems/{code}",
            "title": "t",
            "status": status,
            "code": code,
            "detail": "lot is sold",
        },
        headers={"content-type": "application/problem+json"},
    )


async def test_routes_are_exactly_the_spec_operations(producer: Producer) -> None:
    expected = {
        (op.method.upper(), op.path) for op in operations(load_portal_spec("producer")).values()
    }
    assert routes_of(producer.app) == expected


async def test_a_bid_is_stored_before_it_is_sent_with_the_orgs_identity(producer: Producer) -> None:
    bid = await producer.my_bid()
    sent = producer.buyer.calls[-1]
    body = __import__("json").loads(sent.content)
    assert sent.headers["x-api-key"] == "producer-key-0123456789"
    assert (body["externalBidId"], body["bidderName"], body["bidderEmail"]) == (
        bid["_id"],
        "Iberia Biofuels",
        "t@iberia.example",
    )
    assert (bid["status"], bid["buyerBidId"]) == ("submitted", "6750a2d4e4b0f1a2b3c4d777")


async def test_a_buyer_refusal_is_passed_on_and_the_bid_is_failed(producer: Producer) -> None:
    producer.buyer.script["/api/bids"] = [problem(409, "lot_not_open")]
    response = await producer.op("POST", "/api/producer/bids", json=BID)
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["buyerProblem"]["code"]) == ("lot_not_open", "lot_not_open")
    assert "The buyer portal refused the bid" in body["detail"]
    stored = (await producer.op("GET", "/api/producer/bids")).json()["bids"][0]
    assert (stored["status"], stored["lastError"]["code"]) == ("failed", "lot_not_open")


async def test_todays_error_shape_is_understood_too(producer: Producer) -> None:
    producer.buyer.script["/api/bids"] = [httpx.Response(422, json={"error": "Invalid volume"})]
    response = await producer.op("POST", "/api/producer/bids", json=BID)
    assert response.status_code == 422
    assert response.json()["buyerProblem"]["detail"] == "Invalid volume"


async def test_a_buyer_problem_that_breaks_the_problem_schema_is_wrapped_not_echoed(
    producer: Producer,
) -> None:
    odd = {"type": "about:blank", "title": "Nope", "status": "422", "detail": ["not", "text"]}
    producer.buyer.script["/api/bids"] = [httpx.Response(422, json=odd)]
    response = await producer.op("POST", "/api/producer/bids", json=BID)
    assert response.status_code == 422  # not a 500 for breaking the response contract
    passed = response.json()["buyerProblem"]
    assert (passed["title"], passed["status"], passed["detail"]) == ("Buyer refusal", 422, "Nope")


async def test_a_transient_buyer_failure_is_retried(producer: Producer) -> None:
    producer.buyer.script["/api/bids"] = [httpx.Response(503)]
    response = await producer.op("POST", "/api/producer/bids", json=BID)
    assert response.status_code == 201
    assert [c.url.path for c in producer.buyer.calls] == ["/api/bids", "/api/bids"]
    first, second = (
        __import__("json").loads(c.content)["externalBidId"] for c in producer.buyer.calls
    )
    assert first == second  # the retry is the same submission, so the buyer stores it once


async def test_an_unreachable_buyer_keeps_the_bid_draft_for_resubmission(
    producer: Producer,
) -> None:
    down = httpx.ConnectError("refused")
    producer.buyer.script["/api/bids"] = [down, down]
    response = await producer.op("POST", "/api/producer/bids", json=BID)
    assert (response.status_code, response.json()["code"]) == (502, "buyer_unavailable")
    draft = (await producer.op("GET", "/api/producer/bids")).json()["bids"][0]
    assert draft["status"] == "draft"
    again = await producer.op("POST", f"/api/producer/bids/{draft['_id']}/submit")
    assert (again.status_code, again.json()["bid"]["status"]) == (200, "submitted")
    assert (
        await producer.op("POST", f"/api/producer/bids/{draft['_id']}/submit")
    ).status_code == 409


COUNTER: dict[str, Any] = {
    "_id": "6750a3e1e4b0f1a2b3c4d888",
    "bidId": "6750a2d4e4b0f1a2b3c4d777",
    "lotId": LOT_ID,
    "volume": {"amount": 1000, "unit": "gallons"},
    "pricePerUnit": 6.4,
    "price": 6400,
    "currency": "USD",
    "status": "pending",
    "version": 1,
    "createdAt": "2026-11-25T11:00:00Z",
}


async def _countered(producer: Producer) -> tuple[dict[str, Any], dict[str, Any]]:
    """A bid of the producer's that the buyer countered (by webhook), and the counter-offer."""
    mine = await producer.my_bid()
    await producer.bid_event(
        "bid.counter_offer",
        buyer_bid(mine["externalBidId"], version=2, status="countered"),
        counterOffer=COUNTER,
    )
    return mine, dict(COUNTER)


async def test_a_counter_offer_is_answered_through_the_buyer(producer: Producer) -> None:
    mine, counter = await _countered(producer)
    assert (await producer.op("GET", f"/api/producer/bids/{mine['_id']}")).json()["bid"][
        "status"
    ] == "counter_offer"
    accepted = buyer_bid(mine["externalBidId"], version=3, status="accepted")
    producer.buyer.script["/api/bids/6750a2d4e4b0f1a2b3c4d777/accept-counter"] = [
        httpx.Response(
            200,
            json={
                "success": True,
                "bid": accepted,
                "counterOffer": {**counter, "status": "accepted"},
                "contract": contract_of(accepted),
            },
        )
    ]
    answer = await producer.op(
        "POST", f"/api/producer/bids/{mine['_id']}/counter-response", json={"accept": True}
    )
    assert answer.status_code == 200
    assert (answer.json()["bid"]["status"], answer.json()["contract"]["_id"]) == (
        "won",
        "6750a4f0e4b0f1a2b3c4d999",
    )
    sent = __import__("json").loads(producer.buyer.calls[-1].content)
    assert sent == {"accept": True, "counterOfferId": counter["_id"]}
    again = await producer.op(
        "POST", f"/api/producer/bids/{mine['_id']}/counter-response", json={"accept": True}
    )
    assert again.status_code == 409


async def test_an_accepted_counter_offer_answers_its_contract_when_the_webhook_came_first(
    producer: Producer,
) -> None:
    """The buyer sends bid.accepted (with the contract) as it commits, so the webhook can be
    stored before the producer applies the buyer's answer: the answer must still carry the
    contract (it came without one, and the catalogue's counter-offer story failed now and then).
    """
    mine, counter = await _countered(producer)
    accepted = buyer_bid(mine["externalBidId"], version=3, status="accepted")
    contract = contract_of(accepted)
    loop = asyncio.get_running_loop()

    def webhook_first(_request: httpx.Request) -> httpx.Response:
        early = producer.bid_event("bid.accepted", accepted, contract=contract)
        assert asyncio.run_coroutine_threadsafe(early, loop).result(10).status_code == 200
        counter_accepted = {**counter, "status": "accepted"}
        body = {"bid": accepted, "counterOffer": counter_accepted, "contract": contract}
        return httpx.Response(200, json=body)

    producer.buyer.script["/api/bids/6750a2d4e4b0f1a2b3c4d777/accept-counter"] = [webhook_first]
    answer = await producer.op(
        "POST", f"/api/producer/bids/{mine['_id']}/counter-response", json={"accept": True}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["bid"]["status"] == "won"
    assert answer.json()["bid"]["contractId"] == contract["_id"]
    assert answer.json()["contract"]["_id"] == contract["_id"]
    listed = (await producer.op("GET", "/api/producer/contracts")).json()["contracts"]
    assert [c["_id"] for c in listed] == [contract["_id"]]  # stored once
    # the contract says so too: a won bid's answer without its contract does not conform
    spec = load_portal_spec("producer")
    answered = operations(spec)["respondToCounterOffer"].responses["200"]
    schema = validator_for(spec, answered["content"]["application/json"]["schema"])
    assert schema.errors(answer.json()) == []
    assert not schema.is_valid({"bid": answer.json()["bid"]})
    assert schema.is_valid({"bid": {**answer.json()["bid"], "status": "submitted"}})


async def test_sync_reconciles_with_the_buyers_published_lots(producer: Producer) -> None:
    await producer.lot_event("lot.published", buyer_lot())
    other = buyer_lot(version=1)
    other["_id"] = "6750a1c2e4b0f1a2b3c4d5e7"
    producer.buyer.lots = [other]  # the first lot was withdrawn while we missed lot.deleted
    result = (await producer.op("POST", "/api/marketplace/sync")).json()
    assert result == {"fetched": 1, "created": 1, "updated": 0, "awarded": 0, "closed": 1}
    assert await marketplace_statuses(producer) == {LOT_ID: "closed", other["_id"]: "open"}


async def marketplace_statuses(producer: Producer) -> dict[str, str]:
    listed = (await producer.op("GET", "/api/marketplace/lots")).json()["lots"]
    return {lot["_id"]: lot["status"] for lot in listed}


@pytest.mark.parametrize(
    ("buyer_status", "expected", "counted"),
    [
        ("sold", "awarded", "awarded"),
        ("reserved", "awarded", "awarded"),
        ("cancelled", "closed", "closed"),
    ],
)
async def test_sync_reads_each_lot_the_buyer_stopped_listing(
    producer: Producer, buyer_status: str, expected: str, counted: str
) -> None:
    await producer.lot_event("lot.published", buyer_lot())
    producer.buyer.unlisted[LOT_ID] = buyer_lot(version=3, status=buyer_status)
    result = (await producer.op("POST", "/api/marketplace/sync")).json()
    assert result == {"fetched": 0, "created": 0, "updated": 0, "awarded": 0, "closed": 0} | {
        counted: 1
    }
    assert await marketplace_statuses(producer) == {LOT_ID: expected}
    lot = (await producer.op("GET", f"/api/marketplace/lots/{LOT_ID}")).json()["lot"]
    assert (lot["buyerStatus"], lot["version"]) == (buyer_status, 3)
    again = (await producer.op("POST", "/api/marketplace/sync")).json()  # safe to repeat
    assert again == {"fetched": 0, "created": 0, "updated": 0, "awarded": 0, "closed": 0}


async def test_sync_changes_nothing_when_the_buyer_cannot_be_asked_about_a_lot(
    producer: Producer,
) -> None:
    await producer.lot_event("lot.published", buyer_lot())
    new_lot = buyer_lot(version=1)
    new_lot["_id"] = "6750a1c2e4b0f1a2b3c4d5e7"
    producer.buyer.lots = [new_lot]
    producer.buyer.script[f"/api/lots/external/{LOT_ID}"] = [
        httpx.Response(500, json={"title": "boom", "status": 500})
    ]
    response = await producer.op("POST", "/api/marketplace/sync")
    assert (response.status_code, response.json()["code"]) == (502, "buyer_unavailable")
    assert await marketplace_statuses(producer) == {LOT_ID: "open"}  # the new lot not stored


async def test_bids_and_contracts_are_scoped_to_the_organisation(producer: Producer) -> None:
    mine = await producer.my_bid()
    assert (
        await producer.op("GET", f"/api/producer/bids/{mine['_id']}", token=TOKEN_B)
    ).status_code == 404
    assert (await producer.op("GET", "/api/producer/bids", token=TOKEN_B)).json()["count"] == 0


async def test_the_producer_contract_follows_its_own_lifecycle(producer: Producer) -> None:
    mine = await producer.my_bid()
    accepted = buyer_bid(mine["externalBidId"], version=2, status="accepted")
    await producer.bid_event("bid.accepted", accepted, contract=contract_of(accepted))
    url = "/api/producer/contracts/6750a4f0e4b0f1a2b3c4d999"
    assert (await producer.op("PATCH", url, json={"status": "active"})).status_code == 409
    assert (await producer.op("PATCH", url, json={"status": "scheduled"})).json()["contract"][
        "status"
    ] == "scheduled"
