"""The runner between two fake portals: the events it emits, the checks it makes on both sides,
and how each kind of failure reads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from lotflow.clock import FakeClock
from lotflow.engine import events as ev
from lotflow.engine.loader import load_scenario
from lotflow.engine.runner import Parties, Runner
from tests.engine.fakes import (
    API_KEY,
    BUYER_TOKEN,
    KNOWN,
    OPERATIONS,
    PRODUCER_TOKENS,
    FakeMarketplace,
)

Write = Callable[..., Path]

OPENING = """\
name: A lot is published and a producer bids
steps:
  - id: create-lot
    title: The buyer drafts a lot
    actor: buyer
    call: createLot
    body: {title: "Lot ${run_id}", deliveryDate: "${now+7d}", volume: {amount: 1000}}
    expect: {status: 201, body: {/lot/status: draft, /lot/volume/amount: 1000}}
    save: {lot_id: /lot/_id}
  - id: publish
    title: The buyer publishes the lot and producers are told
    actor: buyer
    call: publishLot
    path: {lotId: "${lot_id}"}
    webhooks:
      - {event: lot.published, match: {/lot/_id: "${lot_id}"}, count: 1, within: 5s}
    state:
      - party: producer
        call: getMarketplaceLot
        path: {lotId: "${lot_id}"}
        expect: {/lot/status: open}
    agree:
      - entity: lot
        buyer: {call: getLot, path: {lotId: "${lot_id}"}, at: /lot/status}
        producer: {call: getMarketplaceLot, path: {lotId: "${lot_id}"}, at: /lot/status}
  - id: bid
    title: Producer alpha bids
    actor: producer
    call: submitProducerBid
    body: {lotId: "${lot_id}", pricePerUnit: 6.3}
    expect: {status: 201, body: {/bid/status: submitted}}
    save: {producer_bid_id: /bid/_id, bid_id: /bid/buyerBidId}
    state:
      - {party: buyer, call: getBid, path: {bidId: "${bid_id}"}, expect: {/bid/status: pending}}
"""

ACCEPT = """\
  - id: accept
    title: The buyer accepts the bid
    actor: buyer
    call: decideBid
    path: {bidId: "${bid_id}"}
    body: {status: accepted}
    webhooks:
      - {event: bid.accepted, match: {/bid/_id: "${bid_id}"}, within: 5s}
    agree:
      - entity: bid
        buyer: {call: getBid, path: {bidId: "${bid_id}"}, at: /bid/status}
        producer: {call: getProducerBid, path: {bidId: "${producer_bid_id}"}, at: /bid/status}
        within: 5s
"""


def run(runner: Runner, *paths: Path) -> list[ev.Event]:
    with runner:
        return list(runner.run([load_scenario(p, KNOWN) for p in paths]))


def results(events: list[ev.Event]) -> list[ev.StepResult]:
    return [
        e.result for e in events if isinstance(e, ev.StepPassed | ev.StepFailed | ev.StepSkipped)
    ]


def only_failure(events: list[ev.Event], step_id: str) -> ev.Failure:
    (step,) = [r for r in results(events) if r.step_id == step_id]
    assert step.outcome == "failed"
    (failure,) = step.failures
    return failure


def test_a_story_that_holds_passes_step_by_step_with_the_events_in_order(
    market: FakeMarketplace, write: Write
) -> None:
    events = run(market.runner(run_id="r1"), write(OPENING + ACCEPT))
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["RunStarted", "ScenarioStarted"] + ["StepStarted", "StepPassed"] * 4 + [
        "ScenarioFinished",
        "RunFinished",
    ]
    started, finished = events[0], events[-1]
    assert isinstance(started, ev.RunStarted)
    assert isinstance(finished, ev.RunFinished)
    assert started.total_steps == 4
    assert started.run_id == "r1"
    assert finished.summary == ev.RunSummary(1, 0, 4, 0, 0, finished.duration)
    assert finished.ok
    assert finished.exit_code == 0
    assert market.lots["lot1"]["title"] == "Lot r1-1"  # ${run_id} is unique per scenario run


def test_each_step_carries_its_exchanges_with_secrets_redacted(
    market: FakeMarketplace, write: Write
) -> None:
    publish = results(run(market.runner(), write(OPENING)))[1]
    call, *checks = publish.exchanges
    assert (call.portal, call.operation, call.actor, call.purpose, call.status) == (
        "buyer",
        "publishLot",
        "buyer",
        "call",
        200,
    )
    assert call.request.method == "POST"
    assert call.request.url == "http://buyer.test/api/lots/lot1/publish"
    assert call.request.headers["authorization"] == "[redacted]"
    assert call.response is not None
    assert call.response.body["lot"]["status"] == "published"
    assert [(x.purpose, x.operation) for x in checks] == [
        ("state", "getMarketplaceLot"),
        ("agree", "getLot"),
        ("agree", "getMarketplaceLot"),
    ]
    sent = [
        r.headers.get("authorization", "") + r.headers.get("x-api-key", "") for r in market.requests
    ]
    assert f"Bearer {BUYER_TOKEN}" in sent
    assert f"Bearer {PRODUCER_TOKENS['alpha']}" in sent


def test_a_step_records_the_webhooks_the_tap_saw_while_it_ran(
    market: FakeMarketplace, write: Write
) -> None:
    publish = results(run(market.runner(), write(OPENING)))[1]
    (webhook,) = publish.webhooks
    assert (webhook.event, webhook.path, webhook.attempt, webhook.status, webhook.delivered) == (
        "lot.published",
        "/api/webhooks/lots",
        1,
        200,
        True,
    )
    assert webhook.webhook_id.startswith("msg_")
    assert webhook.received_at.endswith("Z")


def test_a_wrong_status_fails_the_step_and_skips_the_rest(
    market: FakeMarketplace, write: Write
) -> None:
    events = run(
        market.runner(),
        write(
            OPENING.replace(
                "expect: {status: 201, body: {/lot/status",
                "expect: {status: 200, body: {/lot/status",
            )
        ),
    )
    failure = only_failure(events, "create-lot")
    assert failure.check == "status"
    assert failure.message == "createLot answered 201, expected 200"
    assert failure.response is not None
    assert failure.response.status == 201
    assert [r.outcome for r in results(events)] == ["failed", "skipped", "skipped"]
    finished = events[-1]
    assert isinstance(finished, ev.RunFinished)
    assert (finished.failed, finished.steps_failed, finished.steps_skipped, finished.exit_code) == (
        1,
        1,
        2,
        1,
    )


def test_a_body_expectation_names_the_pointer_and_both_values(
    market: FakeMarketplace, write: Write
) -> None:
    events = run(
        market.runner(),
        write(OPENING.replace("/lot/volume/amount: 1000", "/lot/volume/amount: 999")),
    )
    failure = only_failure(events, "create-lot")
    assert (failure.check, failure.message) == ("body", "/lot/volume/amount is 1000, expected 999")
    assert (failure.expected, failure.observed) == (999, 1000)


def test_an_unknown_variable_fails_the_step_naming_it(
    market: FakeMarketplace, write: Write
) -> None:
    events = run(
        market.runner(),
        write(
            OPENING.replace(
                'path: {lotId: "${lot_id}"}\n    webhooks',
                'path: {lotId: "${lott_id}"}\n    webhooks',
            )
        ),
    )
    failure = only_failure(events, "publish")
    assert failure.check == "variable"
    assert "unknown variable ${lott_id}" in failure.message
    assert "did you mean ${lot_id}?" in failure.message


def test_an_unreachable_party_is_a_transport_failure_naming_it(write: Write) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    parties = Parties(
        "http://buyer.test", "http://producer.test", "t", "k", {"alpha": "p"}, None, OPERATIONS
    )
    runner = Runner(parties, transport_factory=lambda: httpx.MockTransport(refuse))
    failure = only_failure(run(runner, write(OPENING)), "create-lot")
    assert failure.check == "transport"
    assert failure.message.startswith(
        "could not reach the buyer portal at http://buyer.test: ConnectError"
    )
    assert failure.request is not None
    assert failure.request.url == "http://buyer.test/api/lots"


def test_a_webhook_that_never_comes_fails_listing_what_did(
    market: FakeMarketplace, write: Write
) -> None:
    text = OPENING.replace(
        "- {event: lot.published, match", "- {event: lot.deleted, within: 300ms, match"
    ).replace(", count: 1, within: 5s}", "}")
    failure = only_failure(run(market.runner(), write(text)), "publish")
    assert failure.check == "webhook"
    assert failure.message.startswith(
        'lot.deleted matching {"/lot/_id": "lot1"}: '
        "expected at least 1 delivered (2xx) within 0.3s, saw 0"
    )
    assert any(
        seen.startswith("lot.published msg_") and seen.endswith("attempt 1 → 200")
        for seen in failure.observed
    )


def test_an_exact_count_catches_a_duplicate_event(write: Write) -> None:
    with FakeMarketplace(duplicate_events=True).running() as market:
        failure = only_failure(
            run(market.runner(), write(OPENING.replace("within: 5s}", "within: 300ms}"))), "publish"
        )
    assert "expected exactly 1 delivered (2xx) within 0.3s, saw 2" in failure.message


def test_a_disagreement_between_the_portals_is_reported_with_the_mapping(write: Write) -> None:
    with FakeMarketplace(producer_ignores_bid_events=True).running() as market:
        text = (OPENING + ACCEPT).replace("        within: 5s\n", "        within: 200ms\n")
        failure = only_failure(run(market.runner(), write(text)), "accept")
    assert failure.check == "agree"
    assert failure.message.startswith(
        "the bid disagrees: buyer says 'accepted' (→ 'won' for the producer), "
        "producer says 'submitted'"
    )
    assert (failure.expected, failure.observed) == ("won", "submitted")


OUTAGE = """\
  - id: down
    title: The producer portal goes offline
    outage: {party: producer, down: true}
  - id: accept
    title: The buyer accepts while the producer is offline
    actor: buyer
    call: decideBid
    path: {bidId: "${bid_id}"}
    body: {status: accepted}
    webhooks:
      - {event: bid.accepted, match: {/bid/_id: "${bid_id}"}, delivered: false, within: 5s}
    state:
      - party: producer
        call: getProducerBid
        path: {bidId: "${producer_bid_id}"}
        expect: {/bid/status: submitted}
  - id: up
    title: The producer portal comes back
    outage: {party: producer, down: false}
  - id: retried
    title: The retry delivers the acceptance
    wait:
      webhooks:
        - {event: bid.accepted, match: {/bid/_id: "${bid_id}"}, count: 1, within: 5s}
      agree:
        - entity: bid
          buyer: {call: getBid, path: {bidId: "${bid_id}"}, at: /bid/status}
          producer: {call: getProducerBid, path: {bidId: "${producer_bid_id}"}, at: /bid/status}
          within: 5s
"""


def test_an_outage_shows_refused_attempts_then_the_retry_delivered(
    market: FakeMarketplace, write: Write
) -> None:
    events = run(market.runner(), write(OPENING + OUTAGE))
    steps = {r.step_id: r for r in results(events)}
    assert all(r.passed for r in steps.values()), [
        f.message for r in steps.values() for f in r.failures
    ]
    assert steps["down"].kind == "outage"
    assert "offline" in steps["down"].note
    refused = [w for w in steps["accept"].webhooks if w.event == "bid.accepted"]
    assert refused
    assert not refused[0].delivered
    assert refused[0].status == 503
    attempts = [d for d in market.tap.log.since() if d.event == "bid.accepted"]
    assert len({d.webhook_id for d in attempts}) == 1  # retries keep the webhook-id
    assert attempts[-1].delivered
    assert attempts[-1].attempt >= 2
    assert market.tap.down is False


def test_an_outage_never_outlives_its_scenario(market: FakeMarketplace, write: Write) -> None:
    text = (
        OPENING
        + OUTAGE.split("  - id: accept")[0]
        + "  - id: fail\n    title: Fails\n    actor: buyer\n"
        + "    call: getLot\n    path: {lotId: nope}\n"
    )
    events = run(market.runner(), write(text))
    assert only_failure(events, "fail").check == "status"
    assert market.tap.down is False


def test_steps_that_need_the_tap_fail_clearly_without_one(
    market: FakeMarketplace, write: Write
) -> None:
    runner = market.runner(parties=market.parties(tap=False))
    events = run(
        runner,
        write(OPENING),
        write(
            OPENING.split("  - id: publish")[0]
            + OUTAGE.split("  - id: accept")[0].replace("A lot", "x"),
            "b.yaml",
        ),
    )
    publish = only_failure(events, "publish")
    assert (publish.check, publish.message) == (
        "webhook",
        "A webhook expectation needs the webhook tap between the buyer and the producer: "
        "none is set",
    )
    assert only_failure(events, "down").check == "outage"


def test_a_missing_producer_token_is_a_config_failure(
    market: FakeMarketplace, write: Write
) -> None:
    parties = Parties(
        "http://buyer.test",
        "http://producer.test",
        BUYER_TOKEN,
        API_KEY,
        {},
        market.tap,
        OPERATIONS,
    )
    failure = only_failure(run(market.runner(parties=parties), write(OPENING)), "publish")
    assert (failure.check, failure.message) == (
        "config",
        "no producer operator token for 'alpha' (tokens given for: none)",
    )


def test_a_path_that_does_not_fit_the_operation_is_a_request_failure(
    market: FakeMarketplace, write: Write
) -> None:
    text = OPENING.replace(
        'path: {lotId: "${lot_id}"}\n    webhooks', 'path: {lot: "${lot_id}"}\n    webhooks'
    )
    failure = only_failure(run(market.runner(), write(text)), "publish")
    assert failure.check == "request"
    assert (
        failure.message
        == "the path of publishLot (/api/lots/{lotId}/publish) needs lotId and has no lot; "
        "check 'path:'"
    )


def test_state_is_polled_until_its_deadline_on_the_injected_clock(
    market: FakeMarketplace, write: Write
) -> None:
    clock = FakeClock()
    text = OPENING.replace(
        "expect: {/bid/status: pending}}", "expect: {/bid/status: accepted}, within: 2s}"
    )
    events = run(market.runner(clock=clock, pause=clock.advance, poll_interval=0.1), write(text))
    failure = only_failure(events, "bid")
    assert failure.check == "state"
    assert failure.message == (
        "buyer getBid: /bid/status is 'pending', expected 'accepted' (after 7 reads within 2s)"
    )
    step = next(r for r in results(events) if r.step_id == "bid")
    assert step.duration == 2.0  # pauses of 0.1, 0.2, 0.4, 0.5, 0.5, 0.3 on the fake clock
    assert sum(1 for x in step.exchanges if x.purpose == "state") == 1  # only the last read is kept


def test_a_status_mapping_to_nothing_agrees_with_a_producer_that_does_not_show_it(
    market: FakeMarketplace, write: Write
) -> None:
    text = (
        OPENING.split("  - id: publish")[0]
        + """\
  - id: draft-is-private
    title: A draft lot is not on the producer's marketplace
    actor: buyer
    call: getLot
    path: {lotId: "${lot_id}"}
    agree:
      - entity: lot
        buyer: {call: getLot, path: {lotId: "${lot_id}"}, at: /lot/status}
        producer: {call: getMarketplaceLot, path: {lotId: "${lot_id}"}, at: /lot/status}
"""
    )
    assert all(r.passed for r in results(run(market.runner(), write(text))))


def test_an_entity_without_a_mapping_compares_statuses_as_they_are(
    market: FakeMarketplace, write: Write
) -> None:
    opening = OPENING.split("  - id: bid")[0]
    text = opening.replace("entity: lot", "entity: contract\n        within: 200ms")
    failure = only_failure(run(market.runner(), write(text)), "publish")
    assert failure.message.startswith(
        "the contract disagrees: buyer says 'published' (→ 'published' for the producer), "
        "producer says 'open'"
    )
