"""Bid submission on the buyer's producer-facing API.

``buyer.api.bid-idempotent``: submission is idempotent on ``(lotId, externalBidId)``: the same
submission again is 200 with the same bid; the same externalBidId with other terms is 409;
duplicates sent at the same time make one bid (every answer names it) or are refused (409); and
submissions at the same time with one externalBidId and different terms make one bid (one 201,
the rest 409).

``buyer.api.fields-kept``: what a producer sends is what the buyer keeps: every member of a bid
submission the Bid schema also has comes back unchanged, in the answer and when read back.

Both need a published lot: set up through the operator API or the state URL when given, else
the first lot the portal lists as published (not run when there is none).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from lotflow.verify.checks.support import (
    NEEDS_KEY,
    bid_for,
    describe,
    external_id,
    wanted,
)
from lotflow.verify.registry import Check, Direction
from lotflow.verify.results import SubjectResult, failed, not_run, passed
from lotflow.verify.session import Answer, VerifySession
from lotflow.verify.states import published_lot

CREATED, REPEATED, CONFLICT = 201, 200, 409
IDEMPOTENT_SUBJECTS = (
    "submitBid same terms",
    "submitBid other terms",
    "submitBid concurrent",
    "submitBid concurrent other terms",
)
FIELD_SUBJECTS = ("submitBid", "getExternalBid")
NO_LOT = "the portal lists no published lot, and verify cannot publish one"
NO_LOT_REMEDY = "publish a lot first, or give operator credentials or --state-url"


def _without_lot(check_id: str, subjects: Sequence[str]) -> list[SubjectResult]:
    return [not_run(check_id, subject, NO_LOT, NO_LOT_REMEDY) for subject in subjects]


def _bid_id(answer: Answer) -> str | None:
    body = answer.json()
    bid = body.get("bid") if isinstance(body, dict) else None
    return bid.get("_id") if isinstance(bid, dict) else None


# ---------------------------------------------------------------------------------- idempotency


async def _idempotent(session: VerifySession) -> AsyncIterator[SubjectResult]:
    lot = await published_lot(session)
    if lot is None:
        for result in _without_lot(BID_IDEMPOTENT.id, IDEMPOTENT_SUBJECTS):
            yield result
        return
    yield await _same_terms(session, lot)
    yield await _other_terms(session, lot)
    yield await _concurrent(session, lot)
    yield await _concurrent_other_terms(session, lot)


async def _same_terms(session: VerifySession, lot: dict[str, Any]) -> SubjectResult:
    subject = IDEMPOTENT_SUBJECTS[0]
    body = bid_for(session, lot, external_id("same"))
    first = await session.call("submitBid", body=body)
    if first.status != CREATED or _bid_id(first) is None:
        return failed(
            BID_IDEMPOTENT.id,
            subject,
            wanted(
                "a new, valid bid on a published lot is stored: 201 {bid}",
                f"answered {describe(first)}",
                [first],
            ),
        )
    again = await session.call("submitBid", body=body)
    if again.status == REPEATED and _bid_id(again) == _bid_id(first):
        return passed(BID_IDEMPOTENT.id, subject)
    return failed(
        BID_IDEMPOTENT.id,
        subject,
        wanted(
            f"the same submission again answers 200 with the stored bid {_bid_id(first)}",
            f"answered {describe(again)}",
            [first, again],
        ),
    )


async def _other_terms(session: VerifySession, lot: dict[str, Any]) -> SubjectResult:
    subject = IDEMPOTENT_SUBJECTS[1]
    body = bid_for(session, lot, external_id("other"))
    first = await session.call("submitBid", body=body)
    changed = _other_price(body)
    again = await session.call("submitBid", body=changed)
    if again.status == CONFLICT:
        return passed(BID_IDEMPOTENT.id, subject)
    return failed(
        BID_IDEMPOTENT.id,
        subject,
        wanted(
            "the same externalBidId on the same lot with other terms is refused with 409",
            f"answered {describe(again)}",
            [first, again],
        ),
    )


def _other_price(body: dict[str, Any]) -> dict[str, Any]:
    pricing = dict(body["pricing"])
    pricing["pricePerUnit"] = round(pricing["pricePerUnit"] + 0.25, 4)
    pricing["price"] = round(body["volume"]["amount"] * pricing["pricePerUnit"], 2)
    return body | {"pricing": pricing}


async def _concurrent(session: VerifySession, lot: dict[str, Any]) -> SubjectResult:
    subject = IDEMPOTENT_SUBJECTS[2]
    body = bid_for(session, lot, external_id("race"))
    answers = await session.gather(
        *(session.call("submitBid", body=body) for _ in range(session.budget.concurrency))
    )
    stored = [a for a in answers if a.status in (CREATED, REPEATED)]
    ids = {_bid_id(a) for a in stored}
    others = [a for a in answers if a.status not in (CREATED, REPEATED, CONFLICT)]
    created = [a for a in answers if a.status == CREATED]
    if stored and len(ids) == 1 and len(created) <= 1 and not others:
        return passed(BID_IDEMPOTENT.id, subject)
    return failed(
        BID_IDEMPOTENT.id,
        subject,
        wanted(
            f"{len(answers)} identical submissions at once store one bid: at most one 201, the "
            "others 200 with the same bid (or 409)",
            f"statuses {sorted(a.status for a in answers)}; bid ids {sorted(map(str, ids))}",
            answers,
        ),
    )


async def _concurrent_other_terms(session: VerifySession, lot: dict[str, Any]) -> SubjectResult:
    subject = IDEMPOTENT_SUBJECTS[3]
    body = bid_for(session, lot, external_id("race-terms"))
    bodies = [body]
    for _ in range(session.budget.concurrency - 1):
        bodies.append(_other_price(bodies[-1]))
    answers = await session.gather(*(session.call("submitBid", body=b) for b in bodies))
    statuses = [a.status for a in answers]
    if statuses.count(CREATED) == 1 and statuses.count(CONFLICT) == len(answers) - 1:
        return passed(BID_IDEMPOTENT.id, subject)
    return failed(
        BID_IDEMPOTENT.id,
        subject,
        wanted(
            f"{len(answers)} submissions at once with one externalBidId and different terms: "
            "one 201, the others 409",
            f"statuses {sorted(statuses)}; bid ids {sorted({str(_bid_id(a)) for a in answers})}",
            answers,
        ),
    )


# ---------------------------------------------------------------------------------- fields


def _same(sent: Any, kept: Any) -> bool:
    """Equal as the contract means it: numbers by value, timestamps by instant."""
    if isinstance(sent, dict):
        return isinstance(kept, dict) and all(_same(v, kept.get(k)) for k, v in sent.items())
    if isinstance(sent, int | float) and isinstance(kept, int | float):
        return math.isclose(sent, kept, rel_tol=1e-9)
    if isinstance(sent, str) and isinstance(kept, str) and sent != kept:
        return _instant(sent) is not None and _instant(sent) == _instant(kept)
    return bool(sent == kept)


def _instant(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _lost(session: VerifySession, sent: dict[str, Any], answer: Answer) -> list[str]:
    """The members of ``sent`` that the Bid in ``answer`` declares but does not keep."""
    from lotflow.openapi import resolve

    bid_schema = resolve(session.spec, {"$ref": "#/components/schemas/Bid"})
    declared = set(bid_schema.get("properties", {}))
    bid = answer.member("bid")
    bid = bid if isinstance(bid, dict) else {}
    return [
        name for name, value in sent.items() if name in declared and not _same(value, bid.get(name))
    ]


async def _fields_kept(session: VerifySession) -> AsyncIterator[SubjectResult]:
    lot = await published_lot(session)
    if lot is None:
        for result in _without_lot(FIELDS_KEPT.id, FIELD_SUBJECTS):
            yield result
        return
    body = bid_for(session, lot, external_id("fields"))
    made = await session.call("submitBid", body=body)
    yield _kept(session, FIELD_SUBJECTS[0], body, made, [made])
    bid_id = _bid_id(made)
    if bid_id is None:
        yield not_run(FIELDS_KEPT.id, FIELD_SUBJECTS[1], "the bid was not stored", "see submitBid")
        return
    read = await session.call("getExternalBid", path={"bidId": bid_id})
    yield _kept(session, FIELD_SUBJECTS[1], body, read, [read, made])


def _kept(
    session: VerifySession, subject: str, sent: dict[str, Any], answer: Answer, shown: list[Answer]
) -> SubjectResult:
    if answer.status >= 300:
        return failed(
            FIELDS_KEPT.id,
            subject,
            wanted("the bid is answered (2xx {bid})", f"answered {describe(answer)}", shown),
        )
    lost = _lost(session, sent, answer)
    if not lost:
        return passed(FIELDS_KEPT.id, subject)
    return failed(
        FIELDS_KEPT.id,
        subject,
        wanted(
            "every member sent that the Bid schema declares comes back unchanged",
            f"not kept: {', '.join(lost)}",
            shown,
        ),
    )


def _idempotent_subjects(_session: VerifySession) -> Sequence[str]:
    return IDEMPOTENT_SUBJECTS


def _field_subjects(_session: VerifySession) -> Sequence[str]:
    return FIELD_SUBJECTS


BID_IDEMPOTENT = Check(
    "buyer.api.bid-idempotent",
    "Bid submission is idempotent on (lotId, externalBidId): a repeat is 200 with the same bid, "
    "other terms are 409, concurrent duplicates make one bid.",
    Direction.BUYER_API,
    _idempotent,
    _idempotent_subjects,
    (NEEDS_KEY,),
)
FIELDS_KEPT = Check(
    "buyer.api.fields-kept",
    "Every member of a bid submission that the Bid schema declares is kept: in the answer and "
    "when read back.",
    Direction.BUYER_API,
    _fields_kept,
    _field_subjects,
    (NEEDS_KEY,),
)

CHECKS = (BID_IDEMPOTENT, FIELDS_KEPT)
