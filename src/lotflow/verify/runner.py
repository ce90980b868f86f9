"""Runs checks against a session and emits what happens as events, for reporters to show.

The runner never prints. A check whose requirement is unmet is not run: each of its subjects is
reported as not run, with the requirement's reason and what to provide. A portal that cannot be
reached stops the run (``TransportError``, exit 2): nothing about its contract was learned. A
check that breaks (a lotflow bug) leaves its remaining subjects not run, saying so, and the other
checks still run.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from lotflow.clock import Clock, SystemClock
from lotflow.errors import LotflowError
from lotflow.verify.registry import Check
from lotflow.verify.results import SubjectResult, not_run
from lotflow.verify.scorecard import Scorecard
from lotflow.verify.session import VerifySession

__all__ = ["CheckFinished", "CheckStarted", "Event", "SubjectChecked", "run_checks"]


@dataclass(frozen=True)
class CheckStarted:
    check: Check
    subjects: int


@dataclass(frozen=True)
class SubjectChecked:
    check: Check
    result: SubjectResult


@dataclass(frozen=True)
class CheckFinished:
    check: Check
    results: tuple[SubjectResult, ...]
    seconds: float


Event = CheckStarted | SubjectChecked | CheckFinished
STOPPED_REMEDY = "a lotflow bug, not the portal's: report it with the log's traceback"
TOO_MANY_REQUESTS = 429
RATE_LIMITED = (
    "the portal answered 429 (too many requests): a rate limit, most likely on failed "
    "authentications, which verify's auth probes trip; what was asked was not judged"
)
RATE_LIMITED_REMEDY = (
    "raise or lift the portal's limit for the run (the reference portals: "
    "LOTFLOW_AUTH_FAILURE_LIMIT=0), or allow-list the address verify runs from"
)
log = logging.getLogger("lotflow.verify")
Listener = Callable[[Event], None]


async def run_checks(
    session: VerifySession,
    checks: Sequence[Check],
    listener: Listener | None = None,
    clock: Clock | None = None,
) -> Scorecard:
    """Run ``checks`` in order against ``session``'s portal; the scorecard of every result."""
    emit = listener or (lambda _event: None)
    clock = clock or SystemClock()
    started = clock.monotonic()
    results: list[SubjectResult] = []
    async with session.open():
        await session.preflight()
        for check in checks:
            began = clock.monotonic()
            emit(CheckStarted(check, len(check.subjects(session))))
            found = [result async for result in _outcomes(session, check, emit)]
            emit(CheckFinished(check, tuple(found), clock.monotonic() - began))
            results += found
    return Scorecard(session.base_url, tuple(checks), tuple(results), clock.monotonic() - started)


async def _outcomes(
    session: VerifySession, check: Check, emit: Listener
) -> AsyncIterator[SubjectResult]:
    unmet = check.unmet(session)
    if unmet is not None:
        source = (not_run(check.id, s, unmet.reason, unmet.remedy) for s in check.subjects(session))
        for result in source:
            emit(SubjectChecked(check, result))
            yield result
        return
    reported: set[str] = set()
    try:
        async for found in check.run(session):
            result = _unless_rate_limited(found)
            reported.add(result.subject)
            emit(SubjectChecked(check, result))
            yield result
    except LotflowError:
        raise  # an unreachable portal or a bad configuration ends the run (exit 2)
    except Exception as exc:  # a broken check must not hide the other checks' results
        log.exception("check %s stopped", check.id)
        reason = f"the check stopped: {type(exc).__name__}: {exc}"
        for subject in check.subjects(session):
            if subject not in reported:
                result = not_run(check.id, subject, reason, STOPPED_REMEDY)
                emit(SubjectChecked(check, result))
                yield result


def _unless_rate_limited(result: SubjectResult) -> SubjectResult:
    """A failure whose every answer was a 429 judged nothing about the contract: not run."""
    evidence = result.evidence
    if evidence is None or not evidence.exchanges:
        return result
    if all(exchange.status == TOO_MANY_REQUESTS for exchange in evidence.exchanges):
        return not_run(result.check_id, result.subject, RATE_LIMITED, RATE_LIMITED_REMEDY)
    return result
