"""The tap as the network between the portals: each fault does to a delivery what it says (the
buyer sees the fault's answer, the producer sees what got through, the webhook-id is kept),
held copies are released in the order asked, and a reset discards what is held."""

from __future__ import annotations

import json

import httpx
import pytest

from lotflow.engine.tap import NetworkFault, WebhookTap
from tests.engine.test_tap import Producer, deliver


def tap_with(fault: NetworkFault) -> tuple[WebhookTap, Producer]:
    producer = Producer()
    tap = WebhookTap("http://producer.test", transport=httpx.MockTransport(producer))
    tap.fault = fault
    return tap, producer


@pytest.mark.parametrize(
    ("fault", "buyer_sees", "forwarded", "held", "recorded"),
    [
        (NetworkFault.DELIVER, 200, 1, 0, (200, True, "")),
        (NetworkFault.RECEIVER_DOWN, 503, 0, 0, (503, False, "refused")),
        (NetworkFault.DROP, 502, 0, 0, (None, False, "dropped")),
        (NetworkFault.DELAY, 504, 0, 1, (None, False, "held")),
        (NetworkFault.DUPLICATE, 200, 1, 1, (200, True, "duplicated")),
        (NetworkFault.LOST_ANSWER, 504, 1, 0, (200, True, "answer lost")),
    ],
)
def test_each_fault_answers_the_buyer_forwards_and_holds_as_it_says(
    fault: NetworkFault,
    buyer_sees: int,
    forwarded: int,
    held: int,
    recorded: tuple[int | None, bool, str],
) -> None:
    tap, producer = tap_with(fault)
    answer = deliver(tap)
    assert answer.status_code == buyer_sees
    if buyer_sees != 200:
        assert answer.headers["content-type"] == "application/problem+json"
        assert "tap" in answer.json()["detail"]
    assert len(producer.seen) == forwarded
    assert len(tap.held) == held
    (record,) = tap.log.since()
    assert (record.status, record.delivered, record.network) == recorded
    assert record.forwarded == bool(forwarded)


def test_a_held_copy_is_released_unchanged_with_its_webhook_id_and_signature() -> None:
    tap, producer = tap_with(NetworkFault.DUPLICATE)
    deliver(tap)
    tap.fault = NetworkFault.DELIVER
    (released,) = tap.release()
    first, again = producer.seen
    assert again.content == first.content
    for header in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        assert again.headers[header] == first.headers[header]
    assert (released.webhook_id, released.attempt, released.network) == ("msg_1", 2, "released")
    assert released.delivered
    assert tap.held == []


def test_held_copies_are_released_in_the_order_held_or_reversed_and_only_those_chosen() -> None:
    tap, producer = tap_with(NetworkFault.DELAY)
    for number in (1, 2, 3):
        deliver(tap, **{"webhook-id": f"msg_{number}"})
    assert producer.seen == []
    tap.fault = NetworkFault.DELIVER
    (second,) = tap.release(lambda copy: copy.headers["webhook-id"] == "msg_2")
    assert second.webhook_id == "msg_2"
    rest = tap.release(reversed_=True)
    assert [d.webhook_id for d in rest] == ["msg_3", "msg_1"]
    assert [r.headers["webhook-id"] for r in producer.seen] == ["msg_2", "msg_3", "msg_1"]
    assert tap.release() == []


def test_a_lost_answer_makes_the_producer_see_the_same_webhook_id_again() -> None:
    tap, producer = tap_with(NetworkFault.LOST_ANSWER)
    assert deliver(tap).status_code == 504  # the buyer retries...
    tap.fault = NetworkFault.DELIVER
    assert deliver(tap).status_code == 200  # ...with the same webhook-id
    assert [r.headers["webhook-id"] for r in producer.seen] == ["msg_1", "msg_1"]
    assert [d.attempt for d in tap.log.since()] == [1, 2]


def test_a_reset_ends_the_fault_and_the_outage_and_discards_the_held_copies() -> None:
    tap, producer = tap_with(NetworkFault.DELAY)
    deliver(tap)
    tap.down = True
    discarded = tap.reset()
    assert [c.event for c in discarded] == ["lot.published"]
    assert json.loads(discarded[0].body)["lot"]["_id"] == "l1"
    assert (tap.fault, tap.down, tap.held) == (NetworkFault.DELIVER, False, [])
    assert deliver(tap).status_code == 200
    assert len(producer.seen) == 1
