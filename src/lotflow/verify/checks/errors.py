"""Bad input on the buyer's producer-facing API.

``buyer.api.no-server-errors``: malformed input is a 4xx, never a 5xx. Each producer-facing
operation gets, with the right key: a body that is not JSON, a JSON value of the wrong type, an
empty object, the spec's example with each member's type broken, a body of another media type,
and a path id that is not an id. (Schemathesis adds generated cases in ``buyer.api.conformance``.)

``buyer.api.problem-errors``: every error answer is ``application/problem+json`` (RFC 9457) with a
``title`` and a ``status`` equal to the HTTP status. Under the legacy profile, today's
``{error: "..."}`` answers are reported as deviations instead of failures.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from lotflow.openapi import Operation
from lotflow.verify.checks.support import (
    NEEDS_KEY,
    answered,
    describe,
    example_body,
    is_problem,
    legacy_error,
    placeholder_path,
    wanted,
)
from lotflow.verify.registry import Check, Direction
from lotflow.verify.results import Severity, SubjectResult, failed, passed
from lotflow.verify.session import Answer, Party, VerifySession

SERVER_ERROR = 500
NOT_AN_ID = "not-an-id"


def _producer_ops(session: VerifySession) -> Sequence[str]:
    return [op.operation_id for op in session.producer_facing()]


def _broken_members(example: Any) -> Iterator[tuple[str, Any]]:
    """The example with one top-level member's type changed at a time."""
    if not isinstance(example, dict):
        return
    for name, value in example.items():
        wrong: Any = "not-a-number" if isinstance(value, int | float | dict) else 12345
        yield f"{name} of the wrong type", {**example, name: wrong}


def _bad_inputs(
    session: VerifySession, operation: Operation
) -> Iterator[tuple[str, dict[str, str], bytes | None, dict[str, str]]]:
    """(what, path, body, headers) for each bad input this operation gets."""
    path = placeholder_path(session, operation)
    if operation.request_schema is not None:
        json_type = {"Content-Type": "application/json"}
        yield "a body that is not JSON", path, b'{"lotId": ', json_type
        yield "a JSON array", path, b"[]", json_type
        yield "an empty object", path, b"{}", json_type
        yield "a text/plain body", path, b"hello", {"Content-Type": "text/plain"}
        example = example_body(session, operation.operation_id)
        for what, body in _broken_members(example):
            yield what, path, json.dumps(body).encode(), json_type
    for name in path:
        yield f"{name} that is not an id", {**path, name: NOT_AN_ID}, None, {}


async def _send_bad(
    session: VerifySession,
    operation: Operation,
    path: dict[str, str],
    body: bytes | None,
    headers: dict[str, str],
) -> Answer:
    if body is None and operation.request_schema is not None:
        body = json.dumps(example_body(session, operation.operation_id)).encode()
        headers = {"Content-Type": "application/json"}
    return await session.call(
        operation.operation_id, path=path, party=Party.PRODUCER, headers=headers, content=body
    )


async def _no_server_errors(session: VerifySession) -> AsyncIterator[SubjectResult]:
    for operation in session.producer_facing():
        yield await _no_5xx(session, operation)


async def _no_5xx(session: VerifySession, operation: Operation) -> SubjectResult:
    check, op_id = NO_SERVER_ERRORS.id, operation.operation_id
    for what, path, body, headers in _bad_inputs(session, operation):
        answer = await _send_bad(session, operation, path, body, headers)
        if answer.status >= SERVER_ERROR or answer.status < 400:
            return answered(
                check,
                op_id,
                f"a request with {what} is refused with a 4xx",
                answer,
            )
    return passed(check, op_id)


async def _problem_errors(session: VerifySession) -> AsyncIterator[SubjectResult]:
    for operation in session.producer_facing():
        yield await _problems(session, operation)


async def _error_answers(
    session: VerifySession, operation: Operation
) -> AsyncIterator[tuple[str, Answer]]:
    path = placeholder_path(session, operation)
    yield "without a key", await session.call(operation.operation_id, path=path, party=Party.NOBODY)
    for what, bad_path, body, headers in _bad_inputs(session, operation):
        if what in ("a body that is not JSON", "an empty object") or body is None:
            yield f"with {what}", await _send_bad(session, operation, bad_path, body, headers)


async def _problems(session: VerifySession, operation: Operation) -> SubjectResult:
    check, op_id = PROBLEM_ERRORS.id, operation.operation_id
    async for what, answer in _error_answers(session, operation):
        if answer.status < 400 or is_problem(answer):
            continue
        legacy = session.legacy and legacy_error(answer)
        return failed(
            check,
            op_id,
            wanted(
                "an error answer is application/problem+json with title and status (RFC 9457)",
                f"the request {what} answered {describe(answer)}"
                + (" (today's {error} dialect, accepted by the legacy profile)" if legacy else ""),
                [answer],
                Severity.DEVIATION if legacy else Severity.FAILURE,
            ),
        )
    return passed(check, op_id)


NO_SERVER_ERRORS = Check(
    "buyer.api.no-server-errors",
    "Malformed input (bad JSON, wrong types, missing members, bad ids) is a 4xx, never a 5xx.",
    Direction.BUYER_API,
    _no_server_errors,
    _producer_ops,
    (NEEDS_KEY,),
)
PROBLEM_ERRORS = Check(
    "buyer.api.problem-errors",
    "Every error answer is application/problem+json with title and status (legacy profile: "
    "{error} answers are deviations).",
    Direction.BUYER_API,
    _problem_errors,
    _producer_ops,
    (NEEDS_KEY,),
    probes_credentials=True,  # one request of each operation goes without a key
)

CHECKS = (NO_SERVER_ERRORS, PROBLEM_ERRORS)
