"""Each answer fault, observed by the client that gets the answer: the producer simulator's
webhook receivers, the buyer simulator's producer-facing operations, and a reference buyer
whose retries follow the producer simulator's answers."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from lotflow.simulators import ANSWER_FAULTS, BuyerSimulator, ProducerSimulator

from lotflow.clock import SystemClock
from lotflow.ids import new_event_id
from lotflow.openapi import load_portal_spec
from lotflow.signing import signature_headers
from tests.simulators.conftest import BuyerSide, ProducerSide


def lot_event() -> dict[str, Any]:
    """The spec's own example of a lot event, under a fresh event id."""
    example = load_portal_spec("buyer")["components"]["schemas"]["LotEventPayload"]["examples"][0]
    return dict(example) | {"eventId": new_event_id()}


def signed(secret: str, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    headers = signature_headers([secret], payload["eventId"], body, SystemClock())
    return body, headers | {"content-type": "application/json"}


@pytest.fixture(scope="module")
def producer() -> Iterator[ProducerSimulator]:
    with ProducerSimulator() as sim:
        yield sim


def deliver(
    sim: ProducerSimulator, name: str, timeout: float = 10.0, **params: Any
) -> httpx.Response:
    sim.use_faults(json.dumps({"answers": [{"fault": name, **params}]}))
    body, headers = signed(sim.secret, lot_event())
    try:
        return httpx.post(
            f"{sim.url}/api/webhooks/lots", content=body, headers=headers, timeout=timeout
        )
    finally:
        sim.use_faults("{}")


STATUS_CASES = [
    ("status", {"status": 404}, 404, None),
    ("error", {}, 500, None),
    ("gone", {}, 410, None),
    ("throttle", {"retry_after": 7}, 429, "7"),
    ("unavailable", {}, 503, "1"),
]
REFUSALS = [("conflict", 409), ("unprocessable", 422)]


@pytest.mark.parametrize(("name", "params", "status", "retry_after"), STATUS_CASES)
def test_a_status_fault_answers_a_problem_without_processing(
    producer: ProducerSimulator,
    name: str,
    params: dict[str, Any],
    status: int,
    retry_after: str | None,
) -> None:
    answer = deliver(producer, name, **params)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == status
    assert answer.headers.get("retry-after") == retry_after
    assert producer.exchanges()[-1].faults == (name,)


def test_a_2xx_status_fault_acknowledges_without_applying(producer: ProducerSimulator) -> None:
    answer = deliver(producer, "status", status=202)
    assert answer.status_code == 202
    assert answer.json()["applied"] is False


def test_slow_answers_normally_after_the_delay(producer: ProducerSimulator) -> None:
    started = time.monotonic()
    answer = deliver(producer, "slow", ms=300)
    assert time.monotonic() - started >= 0.3
    assert answer.status_code == 200
    assert answer.json()["received"] is True


def test_timeout_answers_past_the_senders_timeout(producer: ProducerSimulator) -> None:
    with pytest.raises(httpx.ReadTimeout):
        deliver(producer, "timeout", timeout=0.3, ms=1500)


def test_reset_closes_the_connection_without_an_answer(producer: ProducerSimulator) -> None:
    logged: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = logged.append  # type: ignore[method-assign]
    server_log = logging.getLogger("uvicorn.error")
    server_log.addHandler(handler)
    try:
        with pytest.raises(httpx.TransportError):
            deliver(producer, "reset")
    finally:
        server_log.removeHandler(handler)
    last = producer.exchanges()[-1]
    assert (last.status, last.faults) == (None, ("reset",))
    assert "reset" in (last.error or "")
    # a deliberate reset is not a server error: nothing in the user's terminal says ERROR
    assert [r.getMessage() for r in logged if r.levelno >= logging.ERROR] == []


@pytest.fixture(scope="module")
def buyer() -> Iterator[BuyerSimulator]:
    with BuyerSimulator() as sim:
        yield sim


@pytest.mark.parametrize(("name", "status"), REFUSALS)
def test_a_business_refusal_of_a_bid(buyer: BuyerSimulator, name: str, status: int) -> None:
    buyer.use_faults(json.dumps({"answers": [{"fault": name, "operation": "submitBid"}]}))
    lot = buyer.publish_lot()
    bid = {"lotId": lot["_id"], "volume": {"amount": 10, "unit": "gallons"}}
    bid |= {
        "pricing": {"price": 65, "currency": "USD", "pricePerUnit": 6.5},
        "externalBidId": "x-1",
    }
    answer = httpx.post(f"{buyer.url}/api/bids", json=bid, headers={"x-api-key": buyer.api_key})
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert buyer.bids(lot["_id"]) == []  # refused, so nothing was stored
    buyer.use_faults("{}")


def test_the_reference_buyer_retries_after_retry_after(producer_side: ProducerSide) -> None:
    sim, c = producer_side.sim, producer_side.credentials
    sim.use_faults(json.dumps({"answers": [{"fault": "unavailable", "retry_after": 1}]}))
    mark = sim.log.mark()
    headers = {"authorization": f"Bearer {c.buyer_token}"}
    lot_body = {"title": "Retry", "type": "HEFA-SPK", "volume": {"amount": 10, "unit": "gallons"}}
    lot_body["pricing"] = {"price": 65, "currency": "USD", "pricePerUnit": 6.5}
    with httpx.Client(base_url=producer_side.buyer_url, headers=headers) as client:
        lot = client.post("/api/lots", json=lot_body).json()["lot"]
        assert client.post(f"/api/lots/{lot['_id']}/publish").status_code == 200
    assert sim.log.wait_until(lambda: any(d.delivered for d in sim.log.since(mark)), 10)
    first, second = sim.log.since(mark)[:2]
    assert (first.webhook_id, first.attempt, first.status) == (second.webhook_id, 1, 503)
    assert (second.attempt, second.status) == (2, 200)
    attempt = [e for e in sim.exchanges() if e.webhook_id == second.webhook_id][-1]
    assert attempt.since_previous_ms is not None
    assert attempt.since_previous_ms >= 950
    sim.use_faults("{}")


def test_every_answer_fault_has_a_test_above() -> None:
    covered = {case[0] for case in STATUS_CASES} | {name for name, _ in REFUSALS}
    covered |= {"slow", "timeout", "reset", "late"}  # the tests of their own
    assert covered == set(ANSWER_FAULTS)


def _until(read: Any, done: Any, seconds: float = 10.0) -> Any:
    """``read()`` until ``done(value)``, polling to a deadline; the last value read."""
    deadline = time.monotonic() + seconds
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.02)  # a poll interval, bounded by the deadline
        value = read()
    return value


def test_a_late_answer_comes_after_the_webhook_the_call_caused(buyer_side: BuyerSide) -> None:
    """`late`: the buyer simulator accepts the counter-offer, then holds its answer until its
    webhook (bid.accepted / contract.created, both carrying the contract) was delivered to the
    producer, so the producer hears of the contract before the answer arrives."""
    sim, c = buyer_side.sim, buyer_side.credentials
    operator = {"authorization": f"Bearer {c.producer_tokens['alpha']}"}
    with httpx.Client(base_url=buyer_side.producer_url, headers=operator, timeout=30) as producer:
        lot = sim.publish_lot()
        listed = _until(
            lambda: producer.get("/api/marketplace/lots").json()["lots"],
            lambda lots: any(entry["_id"] == lot["_id"] for entry in lots),
        )
        assert any(entry["_id"] == lot["_id"] for entry in listed)
        terms = {"price": 650, "currency": "USD", "pricePerUnit": 6.5}
        body = {"lotId": lot["_id"], "volume": {"amount": 100, "unit": "gallons"}, "pricing": terms}
        bid = producer.post("/api/producer/bids", json=body).json()["bid"]
        offer = {"volume": {"amount": 100, "unit": "gallons"}, "pricePerUnit": 6.4, "price": 640}
        sim.counter_bid(bid["buyerBidId"], **offer, currency="USD")
        countered = _until(
            lambda: producer.get(f"/api/producer/bids/{bid['_id']}").json()["bid"]["status"],
            lambda status: status == "counter_offer",
        )
        assert countered == "counter_offer"
        rule = {"fault": "late", "operation": "acceptCounterOffer", "times": 1}
        sim.use_faults(json.dumps({"answers": [rule]}))
        since = len(sim.exchanges())
        answer = producer.post(
            f"/api/producer/bids/{bid['_id']}/counter-response", json={"accept": True}
        )
        sim.use_faults("{}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["contract"]["_id"]
    recorded = sim.exchanges()[since:]
    call = next(i for i, e in enumerate(recorded) if e.subject == "acceptCounterOffer")
    assert recorded[call].faults == ("late",)
    delivered = [i for i, e in enumerate(recorded) if e.sent_and_delivered]
    assert delivered
    assert delivered[0] < call  # recorded (delivered) before the answer was recorded
