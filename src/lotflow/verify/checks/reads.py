"""``buyer.api.reads-back``: what exists reads back through the producer-facing API.

Generated cases mostly name ids that do not exist, so they exercise the 404s; this check reads
real entities: a published lot (``getExternalLot``), a bid just submitted (``getExternalBid``)
and the contract of an accepted bid (``getExternalContract``). Each answers 200 with a body
valid against the operation's documented 200 schema, naming the same id, in the state it was
left in. The contract needs the buyer's own side (operator credentials or a state URL) to accept
the bid; without them that subject is not run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from lotflow.openapi import resolve, validator_for
from lotflow.verify.checks.support import (
    NEEDS_KEY,
    SETUP_REMEDY,
    SetupFailedError,
    bid_for,
    describe,
    external_id,
    wanted,
)
from lotflow.verify.registry import Check, Direction
from lotflow.verify.results import SubjectResult, failed, not_run, passed
from lotflow.verify.session import Answer, VerifySession
from lotflow.verify.states import StateBuilder, UnreachableError, published_lot

OK = 200
# subject → (the member of the answer holding the entity, its path parameter)
READS = {
    "getExternalLot": ("lot", "lotId"),
    "getExternalBid": ("bid", "bidId"),
    "getExternalContract": ("contract", "contractId"),
}


def _subjects(_session: VerifySession) -> Sequence[str]:
    return tuple(READS)


def _schema_errors(session: VerifySession, operation_id: str, answer: Answer) -> list[str]:
    response = session.operations[operation_id].responses[str(OK)]
    schema = resolve(session.spec, response)["content"]["application/json"]["schema"]
    errors = validator_for(session.spec, schema).errors(answer.json())
    return [f"{e.field or '/'}: {e.message}" for e in errors]


async def _read(
    session: VerifySession, operation_id: str, entity_id: str, status: str, made: list[Answer]
) -> SubjectResult:
    part, parameter = READS[operation_id]
    answer = await session.call(operation_id, path={parameter: entity_id})
    entity = answer.member(part)
    found: dict[str, Any] = entity if isinstance(entity, dict) else {}
    problems = []
    if answer.status != OK:
        problems.append(f"answered {describe(answer)}")
    elif errors := _schema_errors(session, operation_id, answer):
        problems.append("the body breaks the documented schema: " + "; ".join(errors[:5]))
    elif (found.get("_id"), found.get("status")) != (entity_id, status):
        problems.append(f"it reads {part} {found.get('_id')} in state {found.get('status')}")
    if not problems:
        return passed(READS_BACK.id, operation_id)
    return failed(
        READS_BACK.id,
        operation_id,
        wanted(
            f"the {part} {entity_id} ({status}) reads back: 200, {{{part}}} valid against the "
            "spec, the same id and state",
            "; ".join(problems),
            [answer, *made],
        ),
    )


async def _reads_back(session: VerifySession) -> AsyncIterator[SubjectResult]:
    lot = await published_lot(session)
    if lot is None:
        for subject in READS:
            yield not_run(READS_BACK.id, subject, "no published lot to read", SETUP_REMEDY)
        return
    yield await _read(session, "getExternalLot", lot["_id"], "published", [])
    made = await session.call("submitBid", body=bid_for(session, lot, external_id("read")))
    bid = made.member("bid")
    if made.status >= 300 or not isinstance(bid, dict):
        yield not_run(READS_BACK.id, "getExternalBid", f"submitBid answered {made.status}", "")
    else:
        yield await _read(session, "getExternalBid", str(bid.get("_id")), "pending", [made])
    yield await _contract(session)


async def _contract(session: VerifySession) -> SubjectResult:
    subject = "getExternalContract"
    try:
        awarded = await StateBuilder(session).reach("buyer.contract", "draft")
    except UnreachableError as exc:
        return not_run(READS_BACK.id, subject, exc.reason, exc.remedy)
    except SetupFailedError as exc:
        return not_run(READS_BACK.id, subject, str(exc), SETUP_REMEDY)
    if awarded.contract_id is None:
        return not_run(READS_BACK.id, subject, "the accepted bid named no contract", SETUP_REMEDY)
    initial = session.workflow.machine("buyer.contract").initial
    return await _read(session, subject, awarded.contract_id, initial, [])


READS_BACK = Check(
    "buyer.api.reads-back",
    "A real lot, bid and contract read back through the producer-facing API: 200, valid "
    "against the spec, the same id and state.",
    Direction.BUYER_API,
    _reads_back,
    _subjects,
    (NEEDS_KEY,),
)

CHECKS = (READS_BACK,)
