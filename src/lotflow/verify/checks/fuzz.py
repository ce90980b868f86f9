"""Schemathesis over the buyer's producer-facing API at the portal's URL.

``buyer.api.conformance`` (stateless): for each producer-facing operation, positive and
negative cases drawn from the bundled spec, each answer checked by every Schemathesis check
(status documented, headers, content type, body against the schema, no 5xx, negative data
refused, positive data accepted, ...). ``buyer.api.stateful``: sequences that follow the spec's
links (a listed lot read back, a submitted bid read back, an answered counter-offer's contract).

Schemathesis runs synchronously (requests) in a worker thread, with the run's seed and budget;
every failing case is recorded (not shrunk, not raised), so one run reports each operation's
failures with the request and the response. A positive bid is placed on a published lot of the
portal, completed the way a correct client would (the lot's unit, at most its volume, a total
that matches the price per unit): without that, every positive bid would name no lot.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import hypothesis.errors
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, strategies
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.openapi.checks import IgnoredAuth

from lotflow.clock import SystemClock
from lotflow.threads import in_thread
from lotflow.verify.checks.support import NEEDS_KEY
from lotflow.verify.registry import Check, Direction
from lotflow.verify.results import (
    TOO_MANY_REQUESTS,
    Evidence,
    Exchange,
    SubjectResult,
    failed,
    not_run,
    passed,
    rate_limited,
)
from lotflow.verify.session import PRODUCER_TAG, VerifySession
from lotflow.verify.states import published_lot

MAX_EVIDENCE = 3


@dataclass
class _Findings:
    """Calls and failing cases per operation, and the clock that enforces the time budget."""

    session: VerifySession
    deadline: float | None
    by_operation: dict[str, list[Evidence]] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    limited: set[str] = field(default_factory=set)  # operations a 429 answered (or probed)
    clock: SystemClock = field(default_factory=SystemClock)

    def out_of_time(self) -> bool:
        return self.deadline is not None and self.clock.monotonic() > self.deadline

    def record(self, operation_id: str, evidence: Evidence) -> None:
        found = self.by_operation.setdefault(operation_id, [])
        if len(found) < MAX_EVIDENCE and evidence.expected not in {e.expected for e in found}:
            found.append(evidence)


def _config(session: VerifySession) -> SchemathesisConfig:
    key = str(session.credentials.api_key)
    return SchemathesisConfig.from_dict(
        {
            "base-url": session.base_url,
            "headers": session.credentials.producer.as_headers(),
            "auth": {
                "openapi": {
                    name: {"api_key": key} if scheme.get("type") == "apiKey" else {"bearer": key}
                    for name, scheme in _producer_schemes(session).items()
                }
            },
        }
    )


def _producer_schemes(session: VerifySession) -> dict[str, dict[str, Any]]:
    schemes = session.spec.get("components", {}).get("securitySchemes", {})
    used = {n for op in session.producer_facing() for alt in op.security for n in alt}
    return {name: schemes[name] for name in used if name in schemes}


def _schema(session: VerifySession) -> Any:
    loaded = schemathesis.openapi.from_dict(copy.deepcopy(session.spec), config=_config(session))
    return loaded.include(tag=PRODUCER_TAG)


def _evidence(
    failures: Sequence[Failure], response: Any, session: VerifySession
) -> Evidence | None:
    kept = [f for f in failures if not (session.legacy and _legacy_body(response))]
    if not kept:
        return None
    expected = "; ".join(sorted({f.title for f in kept}))
    observed = "\n".join(f"{f.title}: {f.message}".strip() for f in kept)
    return Evidence(expected, observed, (_exchange(response, session),))


def _legacy_body(response: Any) -> bool:
    """An error answered in today's ``{error}`` dialect (judged by problem-errors instead)."""
    try:
        body = response.json()
    except ValueError:
        return False
    return response.status_code >= 400 and isinstance(body, dict) and "error" in body


def _exchange(response: Any, session: VerifySession) -> Exchange:
    request = response.request
    body = request.body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return Exchange(
        method=str(request.method),
        url=str(request.url),
        request_headers=session.redact(request.headers),
        request_body=text,
        status=response.status_code,
        response_headers=dict(response.headers),
        response_body=response.content.decode("utf-8", "replace")[:4000],
    )


def _validate(case: Any, response: Any, findings: _Findings, **kw: Any) -> None:
    operation_id = case.operation.definition.raw["operationId"]
    findings.calls[operation_id] += 1
    if response.status_code == TOO_MANY_REQUESTS:
        findings.limited.add(operation_id)  # the portal's rate limit answered, not the operation
        return
    try:
        case.validate_response(response, **kw)
    except FailureGroup as group:
        judged = [f for f in group.exceptions if not _probe_rate_limited(f)]
        if len(judged) < len(group.exceptions):
            findings.limited.add(operation_id)
        evidence = _evidence(judged, response, findings.session)
        if evidence is not None:
            findings.record(operation_id, evidence)


def _probe_rate_limited(failure: Failure) -> bool:
    """Schemathesis's auth probe (a request without or with wrong credentials) was answered
    429: the portal's limit on failed authentications, which judges nothing about whether the
    operation enforces its auth. The failure carries only its message, which names the status."""
    return isinstance(failure, IgnoredAuth) and f"`{TOO_MANY_REQUESTS} " in failure.message


# ---------------------------------------------------------------------------------- lots for bids


def _complete_bid(body: Any, lot: dict[str, Any] | None) -> Any:
    """A positive bid placed on ``lot`` as a correct client would (a copy; others unchanged).
    Not :func:`lotflow.terms.terms_on`: the drawn currency is kept (the buyer does not tie it
    to the lot's), and a price per unit too large for the total is clamped."""
    if lot is None or not isinstance(body, dict) or "volume" not in body or "pricing" not in body:
        return body
    fixed = copy.deepcopy(body)
    fixed["lotId"] = lot["_id"]
    volume, pricing = fixed["volume"], fixed["pricing"]
    volume["unit"] = lot["volume"]["unit"]
    volume["amount"] = min(volume["amount"], lot["volume"]["amount"])
    per_unit = min(pricing["pricePerUnit"], 1e11 / max(volume["amount"], 1e-9))
    pricing["pricePerUnit"] = per_unit
    pricing["price"] = round(volume["amount"] * per_unit, 2)
    if pricing["price"] <= 0:
        return body
    return fixed


def _completer(lot: dict[str, Any] | None) -> Callable[[Any], None]:
    def complete(case: Any) -> None:
        positive = case.meta is not None and case.meta.generation.mode.is_positive
        if positive and case.operation.definition.raw["operationId"] == "submitBid":
            case.body = _complete_bid(case.body, lot)

    return complete


# ---------------------------------------------------------------------------------- stateless


def _both_modes(operation: Any) -> Any:
    """Positive and negative cases of ``operation``."""
    return strategies.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )


def _settings(session: VerifySession, examples: int) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )


def _stateless(
    session: VerifySession, findings: _Findings, lot: dict[str, Any] | None
) -> list[str]:
    schema, complete, http = _schema(session), _completer(lot), requests.Session()
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()
        tested.append(operation.definition.raw["operationId"])

        @hypothesis.seed(session.budget.seed)
        @_settings(session, session.budget.max_examples)
        @given(case=_both_modes(operation))
        def run(case: Any) -> None:
            if findings.out_of_time():
                return
            complete(case)
            response = case.call(session=http)
            _validate(case, response, findings)

        run()
    return tested


async def _conformance(session: VerifySession) -> AsyncIterator[SubjectResult]:
    findings = _Findings(session, _deadline(session))
    lot = await published_lot(session)
    tested = await in_thread(_stateless, session, findings, lot)
    for operation_id in tested:
        yield _verdict(CONFORMANCE.id, operation_id, findings)


def _deadline(session: VerifySession) -> float | None:
    budget = session.budget.time_budget
    return None if budget is None else SystemClock().monotonic() + budget


UNREACHED = "no generated case reached this operation within the budget"
UNREACHED_REMEDY = (
    "raise --max-examples (or --time-budget); without operator credentials or --state-url, "
    "publish a lot first so that new bids lead on; buyer.api.reads-back reads real entities"
)


def _verdict(check_id: str, subject: str, findings: _Findings) -> SubjectResult:
    if not findings.calls[subject]:
        return not_run(check_id, subject, UNREACHED, UNREACHED_REMEDY)
    found = findings.by_operation.get(subject)
    if not found and subject in findings.limited:
        return rate_limited(check_id, subject)  # not a pass: some of it was not judged
    if not found:
        return passed(check_id, subject)
    first = found[0]
    if len(found) > 1:
        rest = "\n\n".join(f"Also: {e.expected}\n{e.observed}" for e in found[1:])
        first = Evidence(first.expected, first.observed + "\n\n" + rest, first.exchanges)
    return failed(check_id, subject, first)


# ---------------------------------------------------------------------------------- stateful


STATEFUL_ATTEMPTS = 4


def _stateful(session: VerifySession, findings: _Findings, lot: dict[str, Any] | None) -> None:
    """Run the link-driven state machine. A live portal keeps its state between sequences, so
    the links on offer can change under Hypothesis, which then stops with a "flaky strategy"
    error; the calls made so far stand, and the run starts again from the next seed, up to
    ``STATEFUL_ATTEMPTS`` times."""
    for attempt in range(STATEFUL_ATTEMPTS):
        machine = _links_machine(session, findings, lot)
        hypothesis.seed(session.budget.seed + attempt)(machine)
        settings = hypothesis.settings(
            _settings(session, session.budget.max_examples), stateful_step_count=6
        )
        try:
            machine.run(settings=settings)
        except hypothesis.errors.Flaky:
            continue
        return


def _links_machine(session: VerifySession, findings: _Findings, lot: dict[str, Any] | None) -> Any:
    schema, complete, http = _schema(session), _completer(lot), requests.Session()

    class Links(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            complete(case)

        def call(self, case: Any, **kwargs: Any) -> Any:
            return case.call(session=http, **kwargs)

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            _validate(case, response, findings, recorder=self.recorder)

        def step(self, input: Any) -> Any:
            if findings.out_of_time():
                return None
            return super().step(input)

    return Links


async def _stateful_check(session: VerifySession) -> AsyncIterator[SubjectResult]:
    findings = _Findings(session, _deadline(session))
    await in_thread(_stateful, session, findings, await published_lot(session))
    for operation_id in _linked(session):
        yield _verdict(STATEFUL.id, operation_id, findings)


def _linked(session: VerifySession) -> list[str]:
    return [op.operation_id for op in session.producer_facing()]


CONFORMANCE = Check(
    "buyer.api.conformance",
    "Schemathesis (stateless): every answer's status, headers, content type and body match "
    "the spec; no 5xx; negative data refused, positive data accepted.",
    Direction.BUYER_API,
    _conformance,
    _linked,
    (NEEDS_KEY,),
    probes_credentials=True,  # Schemathesis's auth probes
)
STATEFUL = Check(
    "buyer.api.stateful",
    "Schemathesis (stateful): sequences through the spec's links (list → read, submit → "
    "read back, counter answer → contract) conform at every step.",
    Direction.BUYER_API,
    _stateful_check,
    _linked,
    (NEEDS_KEY,),
    probes_credentials=True,  # Schemathesis's auth probes
)

CHECKS = (CONFORMANCE, STATEFUL)
