"""The buyer's retries and outages, played by verify's webhook listener: it answers the first
attempts of one new lot's ``lot.published`` as each case scripts (503 with Retry-After then 500,
an answer held past the sender's timeout, 410, a 307 redirect) and judges every attempt: the
same webhook-id, a fresh timestamp and signature with all three headers, a delay that honours
Retry-After, no retry after 410, a 3xx retried as a failure and never followed. The outage
check answers 503 to everything while two changes happen, then comes back and waits for both."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from lotflow.threads import in_thread
from lotflow.verify.checks.exercise import WEBHOOK_NEEDS, listener_of
from lotflow.verify.checks.webhooks import SIGNED
from lotflow.verify.listener import Received, Reply
from lotflow.verify.registry import Check, Direction
from lotflow.verify.results import Evidence, SubjectResult, failed, passed
from lotflow.verify.session import VerifySession
from lotflow.verify.states import StateBuilder

__all__ = ["CHECKS"]

RETRY_AFTER = 1  # seconds: long enough that a fresh timestamp must differ
MOVED = "/lotflow-verify-moved"
EVENT = "lot.published"
OUTAGE_EVENTS = ("lot.published", "lot.updated")


@dataclass(frozen=True)
class Case:
    """A scripted answer sequence, what ends the wait, and the judgement of the attempts."""

    name: str
    replies: Callable[[VerifySession, str], Sequence[Reply]]
    done: Callable[[list[Received]], bool]
    judge: Callable[[VerifySession, list[Received]], str]
    settle: bool = False  # keep listening after ``done``, for attempts that must not come


def _delivered(attempts: list[Received]) -> bool:
    return any(r.status < 300 for r in attempts)


def _common(session: VerifySession, attempts: list[Received]) -> str:
    """Every retry keeps the webhook-id and has all three headers, freshly timestamped."""
    if not attempts:
        return "no attempt arrived"
    ids = {r.webhook_id for r in attempts}
    if len(ids) > 1:
        return f"the attempts carry {len(ids)} webhook-ids {sorted(ids)}; a retry keeps the first"
    for earlier, later in itertools.pairwise(attempts):
        missing = [h for h in SIGNED if not later.headers.get(h)]
        if missing:
            return f"a retry has no {', '.join(missing)}"
        gap = later.at - earlier.at
        same = later.headers["webhook-timestamp"] == earlier.headers.get("webhook-timestamp")
        if gap >= 1.0 and same:
            return (
                f"a retry {gap:.1f} s later repeats webhook-timestamp "
                f"{later.headers['webhook-timestamp']} and its signature: each attempt is "
                "timestamped and signed when it is sent"
            )
    return ""


def _after_503(session: VerifySession, attempts: list[Received]) -> str:
    if len(attempts) < 3 or not _delivered(attempts):
        return f"{len(attempts)} attempt(s), answered {[r.status for r in attempts]}"
    gap = attempts[1].at - attempts[0].at
    if gap < RETRY_AFTER - 0.05:
        return f"the retry came {gap:.2f} s after a 503 with Retry-After: {RETRY_AFTER}"
    return _common(session, attempts)


def _after_timeout(session: VerifySession, attempts: list[Received]) -> str:
    if len(attempts) < 2 or not _delivered(attempts):
        return f"{len(attempts)} attempt(s) after an answer held past the sender's timeout"
    return _common(session, attempts)


def _after_gone(session: VerifySession, attempts: list[Received]) -> str:
    if len(attempts) != 1:
        return f"{len(attempts)} attempts, answered {[r.status for r in attempts]}: 410 stops"
    return ""


def _after_redirect(session: VerifySession, attempts: list[Received]) -> str:
    moved = [r for r in attempts if r.path.startswith(MOVED)]
    if moved:
        return f"the sender followed the 307 to {moved[0].path}: a redirect is never followed"
    if len(attempts) < 2 or not _delivered(attempts):
        return f"{len(attempts)} attempt(s), answered {[r.status for r in attempts]}"
    return _common(session, attempts)


def _moved(session: VerifySession, _lot_id: str) -> Sequence[Reply]:
    return [Reply(307, {"Location": listener_of(session).url + MOVED + "/api/webhooks/lots"})]


CASES = (
    Case(
        "503 with Retry-After, then 500",
        lambda _s, _l: [Reply(503, {"Retry-After": str(RETRY_AFTER)}), Reply(500)],
        _delivered,
        _after_503,
    ),
    Case(
        "an answer past the sender's timeout",
        lambda s, _l: [Reply(200, hold=s.budget.sender_timeout + 0.5)],
        lambda attempts: len(attempts) >= 2 and _delivered(attempts[1:]),
        _after_timeout,
    ),
    Case("410 Gone", lambda _s, _l: [Reply(410)], lambda a: bool(a), _after_gone, settle=True),
    Case("307 redirect", _moved, _delivered, _after_redirect, settle=True),
)


async def _published_under(session: VerifySession, replies: Callable[..., Sequence[Reply]]) -> str:
    """A new lot, scripted, then published: its id."""
    builder, listener = StateBuilder(session), listener_of(session)
    lot = await builder.draft_lot()
    listener.script(lot.lot_id, replies(session, lot.lot_id))
    await session.call("publishLot", path={"lotId": lot.lot_id})
    return lot.lot_id


async def _retries(session: VerifySession) -> AsyncIterator[SubjectResult]:
    check = "buyer.webhooks.retries"
    for case in CASES:
        subject = f"{case.name}: {EVENT}"
        attempts = await _attempts(session, case)
        problem = case.judge(session, attempts)
        if not problem:
            yield passed(check, subject)
            continue
        yield failed(check, subject, _evidence(session, case.name, problem, attempts))


async def _attempts(session: VerifySession, case: Case) -> list[Received]:
    """Publish a new lot under ``case``'s script; every attempt of its event (and of anything
    sent where the redirect pointed) once the case is done (or the deadline passed)."""
    listener, budget = listener_of(session), session.budget
    lot_id = await _published_under(session, case.replies)

    def mine(received: list[Received]) -> list[Received]:
        return [
            r
            for r in received
            if (r.entity_id() == lot_id and r.event == EVENT) or r.path.startswith(MOVED)
        ]

    await in_thread(listener.wait, lambda r: case.done(mine(r)), budget.delivery_deadline)
    if case.settle:
        seen = len(mine(listener.received()))
        await in_thread(listener.wait, lambda r: len(mine(r)) > seen, budget.settle)
    return mine(listener.received())


def _evidence(
    session: VerifySession, case: str, problem: str, attempts: list[Received]
) -> Evidence:
    base = listener_of(session).url
    timing = ", ".join(f"+{r.at - attempts[0].at:.2f}s {r.status}" for r in attempts) or "none"
    expected = (
        f"after {case}: retried with the same webhook-id, each attempt freshly timestamped and "
        "signed with all three headers, no earlier than Retry-After, never after 410, a 3xx "
        "retried as a failure and never followed"
    )
    return Evidence(
        expected, f"{problem} (attempts: {timing})", tuple(r.exchange(base) for r in attempts[:6])
    )


async def _outage(session: VerifySession) -> AsyncIterator[SubjectResult]:
    check, listener, budget = "buyer.webhooks.outage", listener_of(session), session.budget
    subject = "lot.published then lot.updated"
    listener.down = True
    try:
        lot = await StateBuilder(session).published_lot()
        version = (lot.lot or {}).get("version")
        body = {"title": "Changed during an outage"} | ({"version": version} if version else {})
        await session.call("updateLot", path={"lotId": lot.lot_id}, body=body)

        def failed_twice(received: list[Received]) -> bool:
            failures = Counter(
                r.event for r in received if r.entity_id() == lot.lot_id and r.status >= 500
            )
            return all(failures[event] >= 2 for event in OUTAGE_EVENTS)

        await in_thread(listener.wait, failed_twice, budget.delivery_deadline)
    finally:
        listener.down = False

    def delivered(received: list[Received]) -> set[str]:
        return {r.event for r in received if r.entity_id() == lot.lot_id and r.status < 300}

    wanted = set(OUTAGE_EVENTS)
    await in_thread(listener.wait, lambda r: delivered(r) >= wanted, budget.delivery_deadline)
    attempts = [r for r in listener.received() if r.entity_id() == lot.lot_id]
    missing = wanted - delivered(attempts)
    if not missing:
        yield passed(check, subject)
        return
    problem = f"{', '.join(sorted(missing))} never arrived after the outage ended"
    yield failed(
        check, subject, _evidence(session, "an outage (503 to every attempt)", problem, attempts)
    )


def _case_subjects(_session: VerifySession) -> list[str]:
    return [f"{case.name}: {EVENT}" for case in CASES]


DIRECTION = Direction.BUYER_WEBHOOKS
CHECKS = [
    Check(
        "buyer.webhooks.retries",
        "after a 503 with Retry-After, a 500, a timeout or a 3xx the event is retried with the "
        "same webhook-id and a fresh timestamp and signature on every attempt (all three "
        "headers), no earlier than Retry-After; a 3xx is never followed; a 410 stops it",
        DIRECTION, _retries, _case_subjects, WEBHOOK_NEEDS,
    ),
    Check(
        "buyer.webhooks.outage",
        "events sent while the receiver is down (503 to everything) arrive once it is back",
        DIRECTION, _outage, lambda _s: ["lot.published then lot.updated"], WEBHOOK_NEEDS,
    ),
]  # fmt: skip
