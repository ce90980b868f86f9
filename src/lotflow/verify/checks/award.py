"""Awards happen once: accepting a bid, and answering a counter-offer.

``buyer.workflow.award-once``: accepting a pending bid answers its contract, the bid reads back
accepted with that contract, the buyer lists exactly one contract for it, and a second accept is
refused (409); the same when several accepts arrive at once (one succeeds, one contract); and
two bids on one lot accepted at once: one wins, the lot has one contract.

``buyer.workflow.counter-answered``: a producer's answer to a counter-offer is applied as asked,
once: ``accept: true`` accepts the bid and the counter-offer and makes one contract;
``accept: false`` declines the counter-offer and the bid is pending again, with no contract; a
second answer is refused (409); concurrent acceptances make one contract.

Both act on the buyer's own side (deciding, reading bids and contracts), so they need operator
credentials; without them they are not run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from lotflow.verify.checks.support import (
    NEEDS_KEY,
    NEEDS_OPERATOR,
    SETUP_REMEDY,
    SetupFailedError,
    wanted,
)
from lotflow.verify.registry import Check, Direction
from lotflow.verify.results import SubjectResult, failed, not_run, passed
from lotflow.verify.session import Answer, VerifySession
from lotflow.verify.states import Entities, StateBuilder

OK, CONFLICT = 200, 409
AWARD_SUBJECTS = (
    "decideBid accept",
    "decideBid accept (concurrent)",
    "decideBid rival bids (concurrent)",
)
COUNTER_SUBJECTS = (
    "acceptCounterOffer accept",
    "acceptCounterOffer decline",
    "acceptCounterOffer accept (concurrent)",
)
CONTRACT_PAGE = 200


async def _contracts(session: VerifySession, member: str, value: str) -> tuple[list[Any], Answer]:
    """The buyer's contracts whose ``member`` is ``value`` (from its latest page)."""
    path = session.operations["listContracts"].path + f"?limit={CONTRACT_PAGE}"
    answer = await session.send("GET", path, session.credentials.operator.as_headers())
    contracts = answer.member("contracts")
    listed = contracts if isinstance(contracts, list) else []
    return [c for c in listed if isinstance(c, dict) and c.get(member) == value], answer


async def _detail(session: VerifySession, bid_id: str) -> tuple[dict[str, Any], Answer]:
    answer = await session.call("getBid", path={"bidId": bid_id})
    body = answer.json()
    return (body if isinstance(body, dict) else {}), answer


async def _repeated(
    session: VerifySession, concurrent: bool, call: Callable[[], Awaitable[Answer]]
) -> list[Answer]:
    """``call`` made twice, one after the other, or ``--concurrency`` times at once."""
    if concurrent:
        return await session.gather(*(call() for _ in range(session.budget.concurrency)))
    return [await call(), await call()]


def _status(detail: dict[str, Any], member: str) -> str | None:
    part = detail.get(member)
    return part.get("status") if isinstance(part, dict) else None


# ---------------------------------------------------------------------------------- award


async def _accept(session: VerifySession, bid: Entities) -> Answer:
    return await session.call(
        "decideBid", path={"bidId": str(bid.bid_id)}, body={"status": "accepted"}
    )


async def _award_once(session: VerifySession) -> AsyncIterator[SubjectResult]:
    builder = StateBuilder(session)
    for subject, concurrent in zip(AWARD_SUBJECTS[:2], (False, True), strict=True):
        try:
            bid = await builder.pending_bid()
        except SetupFailedError as exc:
            yield not_run(AWARD_ONCE.id, subject, str(exc), SETUP_REMEDY)
            continue
        yield await _awarded(session, subject, bid, concurrent)
    try:
        first = await builder.pending_bid()
        second = await builder.pending_bid(first)
    except SetupFailedError as exc:
        yield not_run(AWARD_ONCE.id, AWARD_SUBJECTS[2], str(exc), SETUP_REMEDY)
        return
    yield await _rivals(session, first, second)


async def _rivals(session: VerifySession, first: Entities, second: Entities) -> SubjectResult:
    """Two pending bids on one lot accepted at once: one wins, one contract for the lot."""
    answers = await session.gather(_accept(session, first), _accept(session, second))
    on_lot, listing = await _contracts(session, "lotId", first.lot_id)
    statuses = sorted(a.status for a in answers)
    if statuses == [OK, CONFLICT] and len(on_lot) == 1:
        return passed(AWARD_ONCE.id, AWARD_SUBJECTS[2])
    return failed(
        AWARD_ONCE.id,
        AWARD_SUBJECTS[2],
        wanted(
            "two bids on one lot accepted at once: one 200, one 409, one contract for the lot",
            f"statuses {statuses}; {len(on_lot)} contracts for the lot",
            [*answers, listing],
        ),
    )


async def _awarded(
    session: VerifySession, subject: str, bid: Entities, concurrent: bool
) -> SubjectResult:
    answers = await _repeated(session, concurrent, lambda: _accept(session, bid))
    count = len(answers)
    contracts, listing = await _contracts(session, "bidId", str(bid.bid_id))
    detail, read = await _detail(session, str(bid.bid_id))
    wins = [a for a in answers if a.status == OK]
    refused = [a for a in answers if a.status == CONFLICT]
    problems = []
    if len(wins) != 1 or len(refused) != count - 1:
        problems.append(f"statuses {[a.status for a in answers]} (wanted one 200, the rest 409)")
    if len(contracts) != 1:
        problems.append(f"{len(contracts)} contracts list this bid (wanted 1)")
    if _status(detail, "bid") != "accepted" or not detail.get("contract"):
        problems.append(
            f"the bid reads back {_status(detail, 'bid')} with contract "
            f"{(detail.get('contract') or {}).get('_id')}"
        )
    if not problems:
        return passed(AWARD_ONCE.id, subject)
    return failed(
        AWARD_ONCE.id,
        subject,
        wanted(
            f"{count} accepts of one pending bid{' at once' if concurrent else ''}: one 200 with "
            "the "
            "contract, the others 409; one contract for the bid; the bid reads back accepted",
            "; ".join(problems),
            [*answers, listing, read],
        ),
    )


# ---------------------------------------------------------------------------------- counter


async def _answer(session: VerifySession, bid: Entities, accept: bool) -> Answer:
    body = {"accept": accept, "counterOfferId": bid.counter_id}
    return await session.call("acceptCounterOffer", path={"bidId": str(bid.bid_id)}, body=body)


async def _counter_answered(session: VerifySession) -> AsyncIterator[SubjectResult]:
    builder = StateBuilder(session)
    plans = ((True, False), (False, False), (True, True))
    for subject, (accept, concurrent) in zip(COUNTER_SUBJECTS, plans, strict=True):
        try:
            bid = await builder.countered()
        except SetupFailedError as exc:
            yield not_run(COUNTER_ANSWERED.id, subject, str(exc), SETUP_REMEDY)
            continue
        yield await _answered(session, subject, bid, accept, concurrent)


async def _answered(
    session: VerifySession, subject: str, bid: Entities, accept: bool, concurrent: bool
) -> SubjectResult:
    answers = await _repeated(session, concurrent, lambda: _answer(session, bid, accept))
    count = len(answers)
    contracts, listing = await _contracts(session, "bidId", str(bid.bid_id))
    detail, read = await _detail(session, str(bid.bid_id))
    want_bid, want_counter = ("accepted", "accepted") if accept else ("pending", "declined")
    problems = []
    statuses = [a.status for a in answers]
    if statuses.count(OK) != 1 or statuses.count(CONFLICT) != count - 1:
        problems.append(f"statuses {statuses} (wanted one 200, the rest 409)")
    if (_status(detail, "bid"), _status(detail, "counterOffer")) != (want_bid, want_counter):
        problems.append(
            f"the bid reads back {_status(detail, 'bid')}, its counter-offer "
            f"{_status(detail, 'counterOffer')} (wanted {want_bid}, {want_counter})"
        )
    if len(contracts) != (1 if accept else 0):
        problems.append(f"{len(contracts)} contracts list this bid (wanted {1 if accept else 0})")
    if not problems:
        return passed(COUNTER_ANSWERED.id, subject)
    return failed(
        COUNTER_ANSWERED.id,
        subject,
        wanted(
            f"{count} answers accept={str(accept).lower()}{' at once' if concurrent else ''}: one "
            f"200, the others 409; the bid {want_bid}, its counter-offer {want_counter}; "
            f"{1 if accept else 0} contract",
            "; ".join(problems),
            [*answers, listing, read],
        ),
    )


def _award_subjects(_session: VerifySession) -> Sequence[str]:
    return AWARD_SUBJECTS


def _counter_subjects(_session: VerifySession) -> Sequence[str]:
    return COUNTER_SUBJECTS


AWARD_ONCE = Check(
    "buyer.workflow.award-once",
    "Accepting a bid creates its contract once, also when accepts arrive at the same time; a "
    "second accept is 409.",
    Direction.BUYER_WORKFLOW,
    _award_once,
    _award_subjects,
    (NEEDS_KEY, NEEDS_OPERATOR),
)
COUNTER_ANSWERED = Check(
    "buyer.workflow.counter-answered",
    "A counter-offer is accepted or declined as the producer asks, once (one contract on "
    "acceptance, none on decline; a second answer is 409).",
    Direction.BUYER_WORKFLOW,
    _counter_answered,
    _counter_subjects,
    (NEEDS_KEY, NEEDS_OPERATOR),
)

CHECKS = (AWARD_ONCE, COUNTER_ANSWERED)
