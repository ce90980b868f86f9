"""The control surface under /_lotflow/: guarded, acts like the party, shows what was seen."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from lotflow.simulators import ActionError

from tests.simulators.conftest import BuyerSide, ProducerSide


def test_control_needs_the_control_token(buyer_side: BuyerSide) -> None:
    answer = httpx.get(f"{buyer_side.sim.url}/_lotflow/findings")
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_bad_fault_plan_is_a_422_naming_the_error(buyer_side: BuyerSide) -> None:
    with pytest.raises(ActionError) as caught:
        buyer_side.sim.control.use_faults("webhooks:\n  - fault: dupliate\n")
    assert caught.value.status == 422
    assert "did you mean 'duplicate'?" in str(caught.value)
    assert buyer_side.sim.control.request("GET", "")["faults"]["webhooks"] == []


def test_the_buyer_simulator_acts_like_a_buyer(buyer_side: BuyerSide) -> None:
    sim = buyer_side.sim
    lot = sim.publish_lot(title="Controlled")
    assert (lot["title"], lot["status"]) == ("Controlled", "published")
    assert sim.update_lot(lot["_id"], title="Renamed", version=lot["version"])["title"] == "Renamed"
    assert sim.bids(lot["_id"]) == []
    with pytest.raises(ActionError) as caught:
        sim.accept_bid("0" * 24)
    assert caught.value.status == 404
    sim.withdraw_lot(lot["_id"])
    assert sim.get_lot(lot["_id"])["status"] == "cancelled"


@pytest.fixture
def bid_on_a_lot(producer_side: ProducerSide) -> Iterator[tuple[ProducerSide, dict[str, str]]]:
    c = producer_side.credentials
    headers = {"authorization": f"Bearer {c.buyer_token}"}
    body = {"title": "For the producer simulator", "type": "HEFA-SPK"}
    body |= {"volume": {"amount": 500000, "unit": "gallons"}}
    body |= {"pricing": {"price": 3250000, "currency": "USD", "pricePerUnit": 6.5}}
    with httpx.Client(base_url=producer_side.buyer_url, headers=headers) as buyer:
        lot = buyer.post("/api/lots", json=body).json()["lot"]
        buyer.post(f"/api/lots/{lot['_id']}/publish").raise_for_status()
        yield producer_side, {"lotId": lot["_id"], "buyerToken": c.buyer_token}


def test_the_producer_simulator_acts_like_a_producer(
    bid_on_a_lot: tuple[ProducerSide, dict[str, str]],
) -> None:
    side, ids = bid_on_a_lot
    sim = side.sim
    assert ids["lotId"] in [lot["_id"] for lot in sim.list_lots()]
    assert sim.get_lot(ids["lotId"])["status"] == "published"
    bid = sim.submit_bid(ids["lotId"])
    assert bid["status"] == "submitted"
    assert sim.get_bid(bid["buyerBidId"])["status"] == "pending"
    calls = [e.subject for e in sim.exchanges() if e.kind == "call"]
    assert {"listExternalLots", "getExternalLot", "submitBid", "getExternalBid"} <= set(calls)
    assert sim.wait_for_webhooks(1, timeout=10.0)  # the buyer's dispatcher sends it on its own
    received = sim.control.request("GET", "/received")["received"]
    assert any(r["event"] == "lot.published" and r["status"] == 200 for r in received)


def test_outage_and_reset_from_outside(producer_side: ProducerSide) -> None:
    sim = producer_side.sim
    sim.control.set_down(True)
    assert sim.down is True
    sim.control.set_down(False)
    sim.control.reset()
    assert sim.exchanges() == []
    assert sim.control.record()["log"]["entries"] == []


def test_exchanges_and_webhooks_are_shown(buyer_side: BuyerSide) -> None:
    sim = buyer_side.sim
    mark = sim.log.mark()
    sim.publish_lot(title="Shown")
    assert sim.log.wait_until(lambda: len(sim.log.since(mark)) >= 1, 5)
    webhooks = sim.control.request("GET", "/webhooks")["webhooks"]
    assert webhooks[-1]["subject"] == "lot.published"
    assert webhooks[-1]["status"] == 200
    exchanges = sim.control.request("GET", "/exchanges")["exchanges"]
    assert exchanges[-1]["webhookId"] == webhooks[-1]["webhookId"]
    assert exchanges[-1]["request"]["method"] == "POST"
