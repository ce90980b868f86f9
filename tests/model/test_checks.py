"""Each invariant of the model fails on the state that breaks it (and holds on one that does
not); states and the mapping come from the shipped workflow."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from lotflow.engine.tap import Delivery
from lotflow.explore import checks
from lotflow.explore.checks import Seen, Snapshot
from lotflow.openapi import load_portal_spec, resolve
from lotflow.workflow import load_workflow

WORKFLOW = load_workflow()


def snapshot(*seen: Seen) -> Snapshot:
    found = Snapshot()
    for item in seen:
        found.add(item)
    return found


def names(found: list[checks.Violation]) -> list[str]:
    return [v.invariant for v in found]


def test_a_status_outside_the_machine_and_two_contracts_for_one_bid_are_caught() -> None:
    bad = snapshot(
        Seen("buyer.bid", "b1", "haggling", 1),
        Seen("buyer.contract", "c1", "draft", 1, {"lotId": "l1", "bidId": "b1"}),
        Seen("buyer.contract", "c2", "draft", 1, {"lotId": "l2", "bidId": "b1"}),
    )
    assert names(checks.within(WORKFLOW, bad)) == ["state", "one contract"]
    assert checks.within(WORKFLOW, snapshot(Seen("buyer.bid", "b1", "pending", 1))) == []


def test_a_version_going_back_a_move_with_no_path_and_a_vanished_entity_are_caught() -> None:
    before = snapshot(Seen("producer.bid", "p1", "won", 3), Seen("buyer.lot", "l1", "published", 2))
    after = snapshot(Seen("producer.bid", "p1", "submitted", 2))
    assert sorted(names(checks.between(WORKFLOW, before, after))) == [
        "kept",
        "transition",
        "version",
    ]
    moved_on = snapshot(Seen("producer.bid", "p1", "won", 4), Seen("buyer.lot", "l1", "sold", 3))
    assert checks.between(WORKFLOW, before, moved_on) == []


def delivery(webhook_id: str, applied: bool, duplicate: bool = False) -> Delivery:
    answer = {"received": True, "eventId": webhook_id, "duplicate": duplicate, "applied": applied}
    return Delivery(
        "POST",
        "/api/webhooks/bids",
        {"webhook-id": webhook_id},
        b"{}",
        datetime(2026, 11, 25, tzinfo=UTC),
        200,
        json.dumps(answer).encode(),
    )


def test_a_webhook_applied_twice_is_caught_and_an_ignored_duplicate_is_not() -> None:
    twice = [delivery("msg_1", True), delivery("msg_1", True)]
    assert names(checks.applied_twice(twice)) == ["applied once"]
    assert checks.applied_twice([delivery("msg_1", True), delivery("msg_1", False)]) == []


def test_settled_parties_must_agree_through_the_mapping() -> None:
    lot = Seen("buyer.lot", "l1", "sold", 4, {"publishedAt": "2026-11-25T09:00:00Z"})
    bid = Seen("buyer.bid", "b1", "accepted", 2)
    mine = Seen("producer.bid", "p1", "submitted", 2, {"buyerBidId": "b1"})
    contract = Seen("buyer.contract", "c1", "draft", 1)
    found = checks.agreement(WORKFLOW, snapshot(lot, bid, mine, contract))
    assert [v.subject for v in found] == ["lot l1", "bid b1", "contract c1"]
    agreed = snapshot(
        lot,
        bid,
        Seen("producer.lot", "l1", "awarded", 4),
        Seen("producer.bid", "p1", "won", 3, {"buyerBidId": "b1"}),
        contract,
        Seen("producer.contract", "c1", "draft", 1),
    )
    assert checks.agreement(WORKFLOW, agreed) == []


def test_a_lot_withdrawn_as_a_draft_must_stay_unseen_by_the_producer() -> None:
    never_published = Seen("buyer.lot", "l1", "cancelled", 2)
    assert checks.agreement(WORKFLOW, snapshot(never_published)) == []
    shown = snapshot(never_published, Seen("producer.lot", "l1", "closed", 2))
    assert names(checks.agreement(WORKFLOW, shown)) == ["agree"]


def test_events_the_buyer_still_owes_are_caught() -> None:
    assert names(checks.undelivered({"pending": 2, "failed": 0})) == ["delivered"]
    assert checks.undelivered({"pending": 0, "failed": 0}) == []


def test_a_repeated_webhook_id_not_acknowledged_as_a_duplicate_is_caught() -> None:
    replayed = [delivery("msg_1", True), delivery("msg_1", False)]
    found = checks.repeats_unacknowledged(replayed)
    assert names(found) == ["acknowledged as duplicate"]
    assert found[0].subject == "webhook msg_1"
    deduplicated = [delivery("msg_1", True), delivery("msg_1", False, duplicate=True)]
    assert checks.repeats_unacknowledged(deduplicated) == []
    refused_first = [replace(delivery("msg_1", False), status=503), delivery("msg_1", True)]
    assert checks.repeats_unacknowledged(refused_first) == []  # only the second was accepted


def test_the_answer_fields_the_checks_read_are_the_specs() -> None:
    spec = load_portal_spec("buyer")
    for event, hook in spec["webhooks"].items():
        answer = hook["post"]["responses"]["200"]["content"]["application/json"]["schema"]
        required = set(resolve(spec, answer)["required"])
        assert {checks.ACK_APPLIED, checks.ACK_DUPLICATE} <= required, event


def test_a_settled_lot_whose_version_differs_is_caught() -> None:
    lot = Seen("buyer.lot", "l1", "published", 3, {"publishedAt": "2026-11-25T09:00:00Z"})
    stale = snapshot(lot, Seen("producer.lot", "l1", "open", 1_000_001))
    (found,) = checks.agreement(WORKFLOW, stale)
    assert str(found) == "agree: lot l1: buyer version 3, producer version 1000001"
    assert checks.agreement(WORKFLOW, snapshot(lot, Seen("producer.lot", "l1", "open", 3))) == []
