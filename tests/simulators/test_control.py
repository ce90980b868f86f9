"""The control surface under /_lotflow/: guarded, acts like the party, shows what was seen."""

from __future__ import annotations

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


def _published_lot(side: ProducerSide, amount: int, unit: str = "gallons") -> str:
    """A lot the reference buyer publishes; its id."""
    headers = {"authorization": f"Bearer {side.credentials.buyer_token}"}
    body = {"title": "For the producer simulator", "type": "HEFA-SPK"}
    body |= {"volume": {"amount": amount, "unit": unit}}
    body |= {"pricing": {"price": amount * 6.5, "currency": "EUR", "pricePerUnit": 6.5}}
    with httpx.Client(base_url=side.buyer_url, headers=headers) as buyer:
        lot = buyer.post("/api/lots", json=body).json()["lot"]
        buyer.post(f"/api/lots/{lot['_id']}/publish").raise_for_status()
    return str(lot["_id"])


@pytest.fixture
def bid_on_a_lot(producer_side: ProducerSide) -> tuple[ProducerSide, dict[str, str]]:
    lot_id = _published_lot(producer_side, 500000)
    return producer_side, {"lotId": lot_id, "buyerToken": producer_side.credentials.buyer_token}


def test_a_bid_made_up_for_the_user_fits_the_lot(producer_side: ProducerSide) -> None:
    """`POST /_lotflow/bids {"lotId"}` on a lot smaller than the spec's example bid, in another
    unit and currency: the bid made up is one the buyer takes (it was a 422 before)."""
    lot_id = _published_lot(producer_side, 1000, "metric-tons")
    bid = producer_side.sim.submit_bid(lot_id)
    assert bid["status"] == "submitted", bid
    assert bid["volume"] == {"amount": 1000, "unit": "metric-tons"}
    assert bid["pricing"]["currency"] == "EUR"
    assert bid["pricing"]["price"] == round(1000 * bid["pricing"]["pricePerUnit"], 2)


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
