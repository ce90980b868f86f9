"""The producer as the buyer's API client: verify plays the buyer (``session.buyer``, a buyer
simulator the producer under test uses as its buyer), drives the producer through its operator
API (sync the marketplace, submit and resubmit a bid, answer a counter-offer) and judges what the
producer sent the buyer (the key, bodies the spec accepts, the externalBidId kept across
retries) and, after answers the simulated buyer is told to give (409, 422, 5xx, a dropped
connection), the producer's own state read back through its operator API.

The producer's states are read from the workflow (``producer.bid``): the state a stored bid is
in, and the states a bid can be resubmitted from."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from functools import cache
from typing import Any

from lotflow.openapi import load_portal_spec, operations, resolve
from lotflow.verify.checks.support import describe, example_body, terms_on, wanted
from lotflow.verify.registry import Check, Direction, Requirement
from lotflow.verify.results import Exchange, SubjectResult, failed, not_run, passed
from lotflow.verify.session import Answer, VerifySession
from lotflow.verify.simulated import Call, SimulatedBuyer

__all__ = ["CHECKS"]

NEEDS_BUYER = Requirement(
    "verify playing the buyer",
    lambda s: s.buyer is not None,
    "verify is not playing the producer's buyer, so it cannot see the producer's calls",
    "give --buyer-listen HOST:PORT and start the producer with "
    "NEXT_PUBLIC_BUYER_DASHBOARD_URL=http://HOST:PORT and BUYER_API_KEY=<--buyer-key>",
)
NEEDS_DRIVER = Requirement(
    "producer operator credentials",
    lambda s: s.has_operator,
    "without the producer's operator credentials verify cannot make the producer call the "
    "buyer (sync, bid, resubmit, answer a counter-offer) nor read its bids back",
    "give --operator-token (a producer operator token, LOTFLOW_PRODUCER_OPERATOR_TOKEN)",
)
NEEDS = (NEEDS_BUYER, NEEDS_DRIVER)
SUBMIT = "submitBid"  # the buyer's operation a bid goes out through


def _ok(answer: Answer) -> bool:
    return 200 <= answer.status < 300


def _buyer(session: VerifySession) -> SimulatedBuyer:
    buyer: SimulatedBuyer = session.buyer
    return buyer


# ---------------------------------------------------------------------------------- the workflow


def _transitions(session: VerifySession, operation: str) -> list[Any]:
    machine = session.workflow.machines["producer.bid"]
    return [t for t in machine.transitions if t.cause.name == operation and t.source]


def stored_states(session: VerifySession) -> set[str]:
    """The states of a bid the buyer stored (``submitProducerBid``'s non-terminal targets)."""
    terminal = session.workflow.machines["producer.bid"].terminal
    return {t.target for t in _transitions(session, "submitProducerBid")} - set(terminal)


def resubmittable_states(session: VerifySession) -> set[str]:
    """The states ``resubmitProducerBid`` moves a bid from."""
    return {s for t in _transitions(session, "resubmitProducerBid") for s in t.source}


def countered_states(session: VerifySession) -> set[str]:
    """The states a counter-offer event leaves a submitted bid in."""
    machine = session.workflow.machines["producer.bid"]
    stored = stored_states(session)
    return {
        t.target
        for t in machine.transitions
        if t.cause.kind == "event"
        and set(t.source) & stored
        and t.target not in stored
        and "counter" in t.cause.name
    }


# ---------------------------------------------------------------------------------- driving


async def fresh_lot(session: VerifySession) -> tuple[dict[str, Any], Answer]:
    """A lot published on the simulated buyer, and the producer's sync that fetched it."""
    lot = await _buyer(session).publish_lot()
    return lot, await session.call("syncMarketplace")


async def submit(session: VerifySession, lot: dict[str, Any]) -> Answer:
    body = terms_on(example_body(session, "submitProducerBid"), lot)
    return await session.call("submitProducerBid", body=body)


async def held_bids(session: VerifySession, lot_id: str) -> tuple[list[dict[str, Any]], Answer]:
    """The producer's bids on ``lot_id`` as its operator API lists them."""
    read = await session.call("listProducerBids", query={"lotId": lot_id})
    return [b for b in read.objects("bids") if b.get("lotId") == lot_id], read


async def resubmit(session: VerifySession, bid_id: str) -> Answer:
    return await session.call("resubmitProducerBid", path={"bidId": bid_id})


def _bid_of(answer: Answer) -> dict[str, Any]:
    return answer.object("bid")


def _no_calls(check: str, subject: str, answer: Answer) -> SubjectResult:
    expected = "the producer calls the buyer verify plays"
    observed = f"no call reached the buyer; the producer answered {describe(answer)}"
    return failed(check, subject, wanted(expected, observed, [answer]))


# ---------------------------------------------------------------------------------- the key


def _judge_key(check: str, subject: str, calls: Sequence[Call], answer: Answer) -> SubjectResult:
    if not calls:
        return _no_calls(check, subject, answer)
    bad = [c for c in calls if not c.authenticated]
    if not bad:
        return passed(check, subject)
    observed = f"{len(bad)} of {len(calls)} calls carried no key the buyer took"
    observed += f" ({_shown_calls(bad)})"
    expected = "X-API-Key (or Authorization: Bearer) with the buyer's key on every call"
    return failed(check, subject, wanted(expected, observed, [*(c.exchange for c in bad), answer]))


async def _sync_then_submit(session: VerifySession) -> list[tuple[str, list[Call], Answer]]:
    """A fresh lot synced, then bid on: per operator action, the calls it made and its answer."""
    buyer = _buyer(session)
    mark = buyer.mark()
    lot, synced = await fresh_lot(session)
    steps = [("syncMarketplace", buyer.calls(mark), synced)]
    mark = buyer.mark()
    answer = await submit(session, lot)
    return [*steps, ("submitProducerBid", buyer.calls(mark), answer)]


async def _api_key(session: VerifySession) -> AsyncIterator[SubjectResult]:
    for subject, calls, answer in await _sync_then_submit(session):
        yield _judge_key("producer.client.api-key", subject, calls, answer)


# ---------------------------------------------------------------------------------- bodies


def _judge_bodies(check: str, subject: str, calls: Sequence[Call], answer: Answer) -> SubjectResult:
    if not calls:
        return _no_calls(check, subject, answer)
    bad = [c for c in calls if any(f.startswith("request.") for f in c.findings)]
    if not bad:
        return passed(check, subject)
    said = "; ".join(f"{c.operation}: {', '.join(c.findings)}" for c in bad)
    expected = "requests the buyer spec accepts (operation, parameters, media type, body)"
    return failed(check, subject, wanted(expected, said, [*(c.exchange for c in bad), answer]))


async def _bodies(session: VerifySession) -> AsyncIterator[SubjectResult]:
    check = "producer.client.bodies"
    steps = await _sync_then_submit(session)
    for subject, calls, answer in steps:
        yield _judge_bodies(check, subject, calls, answer)
    yield await _resubmitted_body(session, check)
    yield await _counter_body(session, check, _bid_of(steps[-1][2]))


async def _resubmitted_body(session: VerifySession, check: str) -> SubjectResult:
    """A bid the buyer answered 503 to (every attempt), then resubmitted."""
    subject, buyer = "resubmitProducerBid", _buyer(session)
    lot, _ = await fresh_lot(session)
    with buyer.answering([{"fault": "status", "status": 503, "operation": SUBMIT, "times": 0}]):
        first = await submit(session, lot)
    held, read = await held_bids(session, lot["_id"])
    again = [b for b in held if b.get("status") in resubmittable_states(session)]
    if not again:
        observed = f"after a 503 the producer holds no bid to resubmit ({len(held)} on the lot)"
        return failed(check, subject, wanted("a bid to resubmit", observed, [first, read]))
    mark = buyer.mark()
    answer = await resubmit(session, again[0]["_id"])
    return _judge_bodies(check, subject, buyer.calls(mark), answer)


async def _countered(
    session: VerifySession, check: str, subject: str, bid: dict[str, Any]
) -> SubjectResult | None:
    """Counter ``bid`` as the buyer and wait until the producer shows it: None once it does,
    else the result that stops the subject (not run without webhooks, failed otherwise)."""
    buyer = _buyer(session)
    if not buyer.sends_webhooks:
        return not_run(
            check,
            subject,
            "verify sends no webhooks without the producer's webhook secret, so the producer "
            "never hears of the counter-offer it would answer",
            "give --webhook-secret (BUYER_WEBHOOK_SECRET)",
        )
    if not bid.get("buyerBidId"):
        observed = f"the bid to counter was not submitted: {bid or 'no bid'}"
        return failed(check, subject, wanted("a submitted bid to counter", observed, []))
    await buyer.counter(bid["buyerBidId"], counter_offer(bid))
    countered = countered_states(session)
    seen = await _wait_for_state(session, bid["_id"], countered)
    if _bid_of(seen).get("status") not in countered:
        observed = f"within {session.budget.delivery_deadline:g} s the bid reads {describe(seen)}"
        expected = "the producer shows the counter-offer the buyer sent"
        return failed(check, subject, wanted(expected, observed, [seen]))
    return None


async def _counter_body(session: VerifySession, check: str, bid: dict[str, Any]) -> SubjectResult:
    """The producer's answer to a counter-offer the buyer made on ``bid``."""
    subject, buyer = "respondToCounterOffer", _buyer(session)
    stopped = await _countered(session, check, subject, bid)
    if stopped is not None:
        return stopped
    mark = buyer.mark()
    answer = await session.call(
        "respondToCounterOffer", path={"bidId": bid["_id"]}, body={"accept": False}
    )
    return _judge_bodies(check, subject, buyer.calls(mark), answer)


# ---------------------------------------------------------------------------------- acceptance

ACCEPTED = "respondToCounterOffer accept, the webhook first"


async def _accepted(session: VerifySession) -> AsyncIterator[SubjectResult]:
    """Accept a counter-offer through the producer while the buyer holds its answer until its
    webhook (bid.accepted, contract.created: both carry the contract) was delivered: the
    producer's answer must still carry the contract, stored once."""
    check, subject, buyer = "producer.client.counter-accepted", ACCEPTED, _buyer(session)
    lot, _ = await fresh_lot(session)
    bid = _bid_of(await submit(session, lot))
    stopped = await _countered(session, check, subject, bid)
    if stopped is not None:
        yield stopped
        return
    mark = buyer.mark()
    held_ms = int(session.budget.delivery_deadline * 1000)
    late = {"fault": "late", "operation": "acceptCounterOffer", "times": 1, "ms": held_ms}
    with buyer.answering([late]):
        answer = await session.call(
            "respondToCounterOffer", path={"bidId": bid["_id"]}, body={"accept": True}
        )
    yield await _judge_accepted(session, check, subject, mark, answer)


async def _judge_accepted(
    session: VerifySession, check: str, subject: str, mark: int, answer: Answer
) -> SubjectResult:
    calls = _buyer(session).calls(mark)
    accepted = [c for c in calls if c.operation == "acceptCounterOffer" and c.status == 200]
    if not calls:
        return _no_calls(check, subject, answer)
    if not accepted:
        expected = "the buyer's 200 to acceptCounterOffer"
        return failed(check, subject, wanted(expected, _shown_calls(calls), [answer]))
    contract_id = _contract_id(accepted[-1].exchange.response_body)
    if not _buyer(session).webhook_delivered_before(accepted[-1], mark):
        return not_run(
            check,
            subject,
            f"the buyer's webhook did not reach the producer within "
            f"{session.budget.delivery_deadline:g} s, so its answer came first",
            "check that the producer's webhook receivers answer (--webhook-secret), or give a "
            "longer --delivery-deadline",
        )
    given_id = answer.object("contract").get("_id")
    if answer.status != 200 or given_id != contract_id:
        expected = (
            f"200 with the bid won and the contract the buyer returned ({contract_id}), "
            "also when the buyer's webhook brought it first"
        )
        contract = f"contract {given_id}" if given_id else "no contract"
        status = _bid_of(answer).get("status")
        observed = f"the producer answered {answer.status}, the bid {status}, {contract}"
        return failed(check, subject, wanted(expected, observed, [answer, accepted[-1].exchange]))
    listed = await session.call("listProducerContracts")
    copies = [c for c in listed.objects("contracts") if c.get("_id") == contract_id]
    if len(copies) != 1:
        observed = f"the producer lists the contract {len(copies)} times"
        return failed(check, subject, wanted("the contract stored once", observed, [listed]))
    return passed(check, subject)


def _contract_id(text: str | None) -> str | None:
    try:
        document = json.loads(text or "")
    except ValueError:
        return None
    contract = document.get("contract") if isinstance(document, dict) else None
    return contract.get("_id") if isinstance(contract, dict) else None


def _shown_calls(calls: Sequence[Call]) -> str:
    return ", ".join(f"{c.operation} answered {c.status}" for c in calls)


@cache
def _counter_example() -> dict[str, Any]:
    spec = load_portal_spec("buyer")
    schema = resolve(spec, operations(spec)["counterBid"].request_schema or {})
    example: dict[str, Any] = schema["examples"][0]
    return {k: v for k, v in example.items() if k != "expiresAt"}


def counter_offer(bid: dict[str, Any]) -> dict[str, Any]:
    """The buyer spec's example counter-offer, on ``bid``'s volume (its total to match)."""
    offer = copy.deepcopy(_counter_example())
    offer["volume"] = bid["volume"]
    offer["price"] = round(bid["volume"]["amount"] * offer["pricePerUnit"], 2)
    return offer


async def _wait_for_state(session: VerifySession, bid_id: str, states: set[str]) -> Answer:
    """The producer's bid once it is in one of ``states`` (or as it is at the deadline)."""
    deadline = time.monotonic() + session.budget.delivery_deadline
    while True:
        read = await session.call("getProducerBid", path={"bidId": bid_id})
        if _bid_of(read).get("status") in states or time.monotonic() > deadline:
            return read
        await asyncio.sleep(0.05)  # a poll interval, bounded by the deadline


# ---------------------------------------------------------------------------------- retries

RETRY_CASES: dict[str, dict[str, Any]] = {
    "submitProducerBid after a 503": {"fault": "status", "status": 503},
    "submitProducerBid after a dropped connection": {"fault": "reset"},
}


async def _retries(session: VerifySession) -> AsyncIterator[SubjectResult]:
    check, buyer = "producer.client.retry-same-id", _buyer(session)
    for subject, rule in RETRY_CASES.items():
        lot, _ = await fresh_lot(session)
        mark = buyer.mark()
        with buyer.answering([rule | {"operation": SUBMIT, "times": 1}]):
            answer = await submit(session, lot)
        steps = [answer]
        if not _ok(answer):  # the producer gave up: its operator resubmits
            held, read = await held_bids(session, lot["_id"])
            again = [b for b in held if b.get("status") in resubmittable_states(session)]
            steps += [read, *([await resubmit(session, again[0]["_id"])] if again else [])]
        attempts = buyer.calls(mark, SUBMIT)
        stored = await buyer.bids(lot["_id"])
        yield _judge_retry(check, subject, attempts, stored, steps)


def _judge_retry(
    check: str,
    subject: str,
    attempts: Sequence[Call],
    stored: Sequence[dict[str, Any]],
    steps: Sequence[Answer],
) -> SubjectResult:
    ids = list(dict.fromkeys(_external(c) for c in attempts))
    if len(attempts) >= 2 and len(ids) == 1 and len(stored) == 1:
        return passed(check, subject)
    if len(attempts) < 2:
        observed = f"the bid was sent {len(attempts)} time(s): never again, nor resubmittable"
    else:
        observed = (
            f"{len(attempts)} attempts carried externalBidIds {ids}; the buyer holds "
            f"{len(stored)} bids on the lot"
        )
    expected = "the bid sent again (retried or resubmitted) under the same externalBidId: one bid"
    shown: list[Answer | Exchange] = [*(c.exchange for c in attempts), *steps]
    return failed(check, subject, wanted(expected, observed, shown))


def _external(call: Call) -> str:
    body = call.body if isinstance(call.body, dict) else {}
    return str(body.get("externalBidId"))


# ---------------------------------------------------------------------------------- refusals

REFUSALS: dict[str, str] = {
    "submitProducerBid answered 409": "conflict",
    "submitProducerBid answered 422": "unprocessable",
}
OUTAGE = "submitProducerBid answered 5xx"


async def _refusals(session: VerifySession) -> AsyncIterator[SubjectResult]:
    check = "producer.client.refusals"
    for subject, fault in REFUSALS.items():
        yield await _refused(session, check, subject, fault)
    yield await _outage(session, check)


async def _refused(session: VerifySession, check: str, subject: str, fault: str) -> SubjectResult:
    """Every attempt refused: reported to the operator, the bid not shown as stored, one bid."""
    buyer = _buyer(session)
    lot, _ = await fresh_lot(session)
    mark = buyer.mark()
    with buyer.answering([{"fault": fault, "operation": SUBMIT, "times": 0}]):
        answer = await submit(session, lot)
    held, read = await held_bids(session, lot["_id"])
    shown: list[Answer | Exchange] = [
        *(c.exchange for c in buyer.calls(mark, SUBMIT)),
        answer,
        read,
    ]
    stored = [b for b in held if b.get("status") in stored_states(session)]
    if _ok(answer) or stored or len(held) > 1:
        observed = (
            f"the producer answered {answer.status} and holds {len(held)} bid(s) on the lot, "
            f"{len(stored)} shown as {'/'.join(sorted(stored_states(session)))}"
        )
        expected = "the refusal reported (a 4xx/5xx to the operator), the bid not shown as stored"
        return failed(check, subject, wanted(expected, observed, shown))
    return passed(check, subject)


async def _outage(session: VerifySession, check: str) -> SubjectResult:
    """Every attempt answered 500: the bid kept, resubmittable, stored once resubmitted."""
    buyer = _buyer(session)
    lot, _ = await fresh_lot(session)
    with buyer.answering([{"fault": "error", "operation": SUBMIT, "times": 0}]):
        answer = await submit(session, lot)
    held, read = await held_bids(session, lot["_id"])
    again = [b for b in held if b.get("status") in resubmittable_states(session)]
    expected = "the bid kept, resubmittable, and stored once when resubmitted"
    if _ok(answer) or len(held) != 1 or not again:
        observed = (
            f"after a 500 the producer answered {answer.status} and holds {len(held)} bid(s) on "
            f"the lot, {len(again)} resubmittable"
        )
        return failed(check, OUTAGE, wanted(expected, observed, [answer, read]))
    retried = await resubmit(session, again[0]["_id"])
    stored = await buyer.bids(lot["_id"])
    if (
        _ok(retried)
        and _bid_of(retried).get("status") in stored_states(session)
        and len(stored) == 1
    ):
        return passed(check, OUTAGE)
    observed = f"the resubmission answered {describe(retried)}; the buyer holds {len(stored)} bids"
    return failed(check, OUTAGE, wanted(expected, observed, [answer, read, retried]))


# ---------------------------------------------------------------------------------- the checks


def _subjects(names: Sequence[str]) -> Callable[[VerifySession], list[str]]:
    return lambda _s: list(names)


DIRECTION = Direction.PRODUCER_CLIENT
CHECKS = [
    Check(
        "producer.client.api-key",
        "every call the producer makes to the buyer (syncing the marketplace, submitting a bid) "
        "carries the buyer's key (X-API-Key, or Authorization: Bearer) and is not answered 401",
        DIRECTION, _api_key, _subjects(("syncMarketplace", "submitProducerBid")), NEEDS,
    ),
    Check(
        "producer.client.bodies",
        "what the producer sends the buyer when it syncs, submits, resubmits and answers a "
        "counter-offer is a request the buyer spec accepts (the simulated buyer's findings)",
        DIRECTION, _bodies,
        _subjects(("syncMarketplace", "submitProducerBid", "resubmitProducerBid",
                   "respondToCounterOffer")),
        NEEDS,
    ),
    Check(
        "producer.client.retry-same-id",
        "a bid submission the buyer answered 503 to, or whose connection dropped, is sent again "
        "(retried or resubmitted) under the same externalBidId: the buyer holds one bid",
        DIRECTION, _retries, _subjects(tuple(RETRY_CASES)), NEEDS,
    ),
    Check(
        "producer.client.counter-accepted",
        "a counter-offer accepted through the producer, while the buyer's webhook carrying the "
        "contract arrives before the buyer's answer: the producer answers the won bid with that "
        "contract and stores it once",
        DIRECTION, _accepted, _subjects((ACCEPTED,)), NEEDS,
    ),
    Check(
        "producer.client.refusals",
        "the producer survives the buyer's answers: a 409 or 422 refusal is reported and the bid "
        "not shown as stored (nor stored twice); after a 5xx the bid is kept and resubmittable",
        DIRECTION, _refusals, _subjects((*REFUSALS, OUTAGE)), NEEDS,
    ),
]  # fmt: skip
