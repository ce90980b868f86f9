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
from lotflow.verify.results import (  # noqa: F401 - RATE_LIMITED: its reason, re-exported
    RATE_LIMITED,
    TOO_MANY_REQUESTS,
    SubjectResult,
    not_run,
    rate_limited,
)
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
log = logging.getLogger("lotflow.verify")
Listener = Callable[[Event], None]


async def run_checks(
    session: VerifySession,
    checks: Sequence[Check],
    listener: Listener | None = None,
    clock: Clock | None = None,
) -> Scorecard:
    """Run ``checks`` against ``session``'s portal; the scorecard of every result.

    They run in the order given, except that the checks that send missing or wrong credentials
    on purpose run last: a portal that limits failed authentications per client (as real ones
    do) then locks verify out only after every other check had its answers."""
    emit = listener or (lambda _event: None)
    clock = clock or SystemClock()
    started = clock.monotonic()
    results: list[SubjectResult] = []
    async with session.open():
        await session.preflight()
        for check in sorted(checks, key=lambda c: c.probes_credentials):  # stable
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
        return rate_limited(result.check_id, result.subject)
    return result
