"""The producer as webhook receiver: verify plays the buyer and sends signed deliveries to each
receiver the producer spec declares (``receiveLotWebhook``, ``receiveBidWebhook``,
``receiveContractWebhook``), then judges the answers and, with the producer's operator
credentials, what the deliveries did to the producer's state."""

from __future__ import annotations

import copy
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from lotflow.openapi import resolve
from lotflow.verify.checks.signed import (
    LOT_RECEIVER,
    NEEDS_PRODUCER_OPERATOR,
    NEEDS_SECRET,
    RECEIVERS,
    VALID,
    Delivery,
    deliver,
    event_id,
    example_event,
    fresh_id,
    other_secret,
    read_lot,
)
from lotflow.verify.checks.support import describe, is_problem, wanted
from lotflow.verify.registry import Check, Direction
from lotflow.verify.results import SubjectResult, failed, passed
from lotflow.verify.session import Answer, VerifySession

__all__ = ["CHECKS"]

WINDOW_MISS = 600  # seconds: twice the five-minute window of Standard Webhooks
SIGNATURE_CASES: dict[str, tuple[Callable[[VerifySession], Delivery], bool]] = {
    "valid": (lambda _s: VALID, True),
    "valid under a rotated second secret": (
        lambda s: Delivery(secrets=(other_secret(), *s.webhook_secrets)),
        True,
    ),
    "tampered body": (lambda _s: Delivery(tamper=True), False),
    "wrong secret": (lambda _s: Delivery(secrets=(other_secret(),)), False),
    "timestamp too old": (lambda _s: Delivery(shift=-WINDOW_MISS), False),
    "timestamp too far ahead": (lambda _s: Delivery(shift=WINDOW_MISS), False),
    "missing headers": (lambda _s: Delivery(unsigned=True), False),
}
MALFORMED: dict[str, Callable[[dict[str, Any]], Any]] = {
    "not JSON": lambda _b: b"{not json",
    "a JSON array": lambda _b: [],
    "its entity missing": lambda b: {k: v for k, v in b.items() if k not in ("lot", "bid")},
    "its entity a string": lambda b: b | {("lot" if "lot" in b and "bid" not in b else "bid"): "x"},
}


def _ok(answer: Answer) -> bool:
    return 200 <= answer.status < 300


# ---------------------------------------------------------------------------------- signatures


async def _signatures(session: VerifySession) -> AsyncIterator[SubjectResult]:
    check = "producer.receiver.signatures"
    for receiver in RECEIVERS:
        for case, (how, accept) in SIGNATURE_CASES.items():
            subject = f"{case}: {receiver}"
            answer = await deliver(
                session, receiver, example_event(session, receiver), how(session)
            )
            if _ok(answer) if accept else answer.status == 401:
                yield passed(check, subject)
                continue
            expected = "a 2xx acknowledgement" if accept else "401: the delivery is refused"
            yield failed(check, subject, wanted(expected, f"answered {describe(answer)}", [answer]))


# ---------------------------------------------------------------------------------- state


def _lot(session: VerifySession, event: str, version: int, lot_id: str, title: str) -> Any:
    body = example_event(session, LOT_RECEIVER, version=version, title=title)
    body["event"] = event
    body["lot"]["_id"] = lot_id
    return body


async def _sent(session: VerifySession, body: Any, how: Delivery = VALID) -> Answer:
    answer = await deliver(session, LOT_RECEIVER, body, how)
    if not _ok(answer):
        raise _RefusedError(answer)
    return answer


class _RefusedError(Exception):
    def __init__(self, answer: Answer) -> None:
        super().__init__(describe(answer))
        self.answer = answer


async def _judge_lot(
    session: VerifySession, check: str, steps: list[Answer], lot_id: str, title: str, why: str
) -> SubjectResult:
    read = await read_lot(session, lot_id)
    held = read.member("lot") or {}
    if read.status == 200 and held.get("title") == title:
        return passed(check, LOT_RECEIVER)
    observed = f"the producer holds title {held.get('title')!r} (read: {read.status})"
    return failed(check, LOT_RECEIVER, wanted(f"{why}: title {title!r}", observed, [*steps, read]))


async def _replay(session: VerifySession) -> AsyncIterator[SubjectResult]:
    check, lot_id, first = "producer.receiver.replay", fresh_id(), event_id()
    try:
        a = await _sent(
            session, _lot(session, "lot.published", 2, lot_id, "first"), Delivery(webhook_id=first)
        )
        later = _lot(session, "lot.updated", 3, lot_id, "replayed")
        b = await _sent(session, later, Delivery(webhook_id=first))
    except _RefusedError as refused:
        yield _refused(check, refused)
        return
    yield await _judge_lot(
        session, check, [a, b], lot_id, "first", "a replayed webhook-id changes nothing"
    )


async def _stale(session: VerifySession) -> AsyncIterator[SubjectResult]:
    check, lot_id = "producer.receiver.stale-version", fresh_id()
    try:
        a = await _sent(session, _lot(session, "lot.published", 3, lot_id, "newer"))
        b = await _sent(session, _lot(session, "lot.updated", 2, lot_id, "older"))
    except _RefusedError as refused:
        yield _refused(check, refused)
        return
    yield await _judge_lot(session, check, [a, b], lot_id, "newer", "an older version is ignored")


async def _out_of_order(session: VerifySession) -> AsyncIterator[SubjectResult]:
    """Three versions of one lot delivered newest first end where they end in order."""
    check, lot_id = "producer.receiver.out-of-order", fresh_id()
    events = [("lot.published", 2, "v2"), ("lot.updated", 3, "v3"), ("lot.updated", 4, "v4")]
    steps = []
    try:
        for event, version, title in reversed(events):
            steps.append(await _sent(session, _lot(session, event, version, lot_id, title)))
    except _RefusedError as refused:
        yield _refused(check, refused)
        return
    yield await _judge_lot(session, check, steps, lot_id, "v4", "the newest version wins")


def _refused(check: str, refused: _RefusedError) -> SubjectResult:
    return failed(
        check,
        LOT_RECEIVER,
        wanted(
            "a 2xx acknowledgement of a valid delivery", f"answered {refused}", [refused.answer]
        ),
    )


# ---------------------------------------------------------------------------------- answers


async def _unknown(session: VerifySession) -> AsyncIterator[SubjectResult]:
    check = "producer.receiver.unknown-event"
    schema = resolve(session.spec, session.spec["components"]["schemas"]["UnknownEventPayload"])
    for receiver in RECEIVERS:
        body = copy.deepcopy(schema["examples"][0]) | {"eventId": event_id()}
        answer = await deliver(session, receiver, body)
        if _ok(answer):
            yield passed(check, receiver)
        else:
            expected = "a 2xx acknowledgement (an unknown event is acknowledged and ignored)"
            yield failed(
                check, receiver, wanted(expected, f"answered {describe(answer)}", [answer])
            )


async def _malformed(session: VerifySession) -> AsyncIterator[SubjectResult]:
    check = "producer.receiver.malformed"
    for receiver in RECEIVERS:
        for case, make in MALFORMED.items():
            body = make(example_event(session, receiver))
            raw = body if isinstance(body, bytes) else None
            answer = await deliver(session, receiver, body, raw=raw)
            subject = f"{case}: {receiver}"
            if 400 <= answer.status < 500 and is_problem(answer):
                yield passed(check, subject)
                continue
            expected = "a 4xx application/problem+json answer (never a 5xx, never a 2xx)"
            yield failed(check, subject, wanted(expected, f"answered {describe(answer)}", [answer]))


async def _latency(session: VerifySession) -> AsyncIterator[SubjectResult]:
    check, budget = "producer.receiver.answer-time", session.budget.answer_within
    for receiver in RECEIVERS:
        started = time.perf_counter()
        answer = await deliver(session, receiver, example_event(session, receiver))
        took = time.perf_counter() - started
        if _ok(answer) and took <= budget:
            yield passed(check, receiver)
            continue
        expected = f"a 2xx within {budget:g} s (the sender's timeout is the spec's 10 s)"
        observed = f"answered {answer.status} after {took:.2f} s"
        yield failed(check, receiver, wanted(expected, observed, [answer]))


def _receivers(_session: VerifySession) -> list[str]:
    return list(RECEIVERS)


def _cases(table: dict[str, Any]) -> Callable[[VerifySession], list[str]]:
    return lambda _s: [f"{case}: {r}" for r in RECEIVERS for case in table]


def _lot_receiver(_session: VerifySession) -> list[str]:
    return [LOT_RECEIVER]


DIRECTION = Direction.PRODUCER_RECEIVER
STATEFUL = (NEEDS_SECRET, NEEDS_PRODUCER_OPERATOR)
CHECKS = [
    Check(
        "producer.receiver.signatures",
        "each receiver takes a valid Standard Webhooks signature (also one of several, as during "
        "a secret rotation) and answers 401 to a tampered body, a wrong secret, a timestamp "
        "outside the window on either side and missing headers",
        DIRECTION, _signatures, _cases(SIGNATURE_CASES), (NEEDS_SECRET,),
        probes_credentials=True,
    ),
    Check(
        "producer.receiver.replay",
        "a delivery that repeats a webhook-id (with a newer body) is acknowledged and changes "
        "nothing (read back through the producer's operator API)",
        DIRECTION, _replay, _lot_receiver, STATEFUL,
    ),
    Check(
        "producer.receiver.stale-version",
        "an entity version older than the one held is acknowledged and ignored",
        DIRECTION, _stale, _lot_receiver, STATEFUL,
    ),
    Check(
        "producer.receiver.out-of-order",
        "versions of one entity delivered newest first end in the newest one's state",
        DIRECTION, _out_of_order, _lot_receiver, STATEFUL,
    ),
    Check(
        "producer.receiver.unknown-event",
        "an event the contract does not define is acknowledged with a 2xx (forward compatibility)",
        DIRECTION, _unknown, _receivers, (NEEDS_SECRET,),
    ),
    Check(
        "producer.receiver.malformed",
        "a validly signed but malformed payload (not JSON, an array, its entity missing or of the "
        "wrong type) is a 4xx problem+json, never a 5xx",
        DIRECTION, _malformed, _cases(MALFORMED), (NEEDS_SECRET,),
    ),
    Check(
        "producer.receiver.answer-time",
        "a valid delivery is acknowledged within the budget (--answer-within, default 5 s)",
        DIRECTION, _latency, _receivers, (NEEDS_SECRET,),
    ),
]  # fmt: skip
