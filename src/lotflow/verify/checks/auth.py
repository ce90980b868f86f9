"""Authentication on the buyer's producer-facing API.

``buyer.api.auth-enforced``: every producer-facing operation refuses a request without the key,
with a wrong key, and with a wrong key as a bearer token (401), and takes the right key in every
place its security schemes allow (``X-API-Key``; ``Authorization: Bearer`` where the spec lists
the bearer scheme).

``buyer.api.auth-before-body``: authentication comes before the body is looked at: a request
without a key is 401 even when its body is malformed or breaks the schema (a 400 or 422 there
tells an unauthenticated caller how the API validates).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence

from lotflow.openapi import Operation
from lotflow.verify.checks.support import (
    NEEDS_KEY,
    answered,
    example_body,
    placeholder_path,
)
from lotflow.verify.registry import Check, Direction
from lotflow.verify.results import SubjectResult, passed
from lotflow.verify.session import Answer, Party, VerifySession

WRONG_KEY = "lotflow-verify-wrong-key-0000000000"
UNAUTHORIZED = 401


def _producer_ops(session: VerifySession) -> Sequence[str]:
    return [op.operation_id for op in session.producer_facing()]


def _with_body(session: VerifySession) -> Sequence[str]:
    return [op.operation_id for op in session.producer_facing() if op.request_schema is not None]


async def _probe(
    session: VerifySession, operation: Operation, headers: dict[str, str], content: bytes | None
) -> Answer:
    return await session.call(
        operation.operation_id,
        path=placeholder_path(session, operation),
        party=Party.NOBODY,
        headers=headers,
        content=content,
    )


def _valid_body(session: VerifySession, operation: Operation) -> bytes | None:
    if operation.request_schema is None:
        return None
    return json.dumps(example_body(session, operation.operation_id)).encode()


async def _auth_enforced(session: VerifySession) -> AsyncIterator[SubjectResult]:
    for operation in session.producer_facing():
        yield await _enforced(session, operation)


async def _enforced(session: VerifySession, operation: Operation) -> SubjectResult:
    check, op_id = AUTH_ENFORCED.id, operation.operation_id
    body, key = _valid_body(session, operation), str(session.credentials.api_key)
    header = session.key_header(operation)
    refused = {"no key": {}, f"a wrong {header}": {header: WRONG_KEY}}
    accepted = {f"the key in {header}": {header: key}}
    if session.allows_bearer_key(operation):
        refused["a wrong key as a bearer token"] = {"Authorization": f"Bearer {WRONG_KEY}"}
        accepted["the key as a bearer token"] = {"Authorization": f"Bearer {key}"}
    for what, headers in refused.items():
        answer = await _probe(session, operation, headers, body)
        if answer.status != UNAUTHORIZED:
            return answered(
                check,
                op_id,
                f"a request with {what} is refused with 401",
                answer,
            )
    for what, headers in accepted.items():
        answer = await _probe(session, operation, headers, body)
        if answer.status == UNAUTHORIZED:
            return answered(
                check,
                op_id,
                f"a request with {what} is authenticated (the spec allows it)",
                answer,
            )
    return passed(check, op_id)


async def _auth_before_body(session: VerifySession) -> AsyncIterator[SubjectResult]:
    for operation in session.producer_facing():
        if operation.request_schema is not None:
            yield await _before_body(session, operation)


async def _before_body(session: VerifySession, operation: Operation) -> SubjectResult:
    check, op_id = AUTH_BEFORE_BODY.id, operation.operation_id
    for what, content in (("a malformed JSON body", b'{"lotId": '), ("an empty object", b"{}")):
        answer = await _probe(session, operation, {}, content)
        if answer.status != UNAUTHORIZED:
            return answered(
                check,
                op_id,
                f"a request without a key and with {what} is refused with 401 before the body "
                "is read",
                answer,
            )
    return passed(check, op_id)


AUTH_ENFORCED = Check(
    "buyer.api.auth-enforced",
    "Every producer-facing operation refuses a missing or wrong key (401) and takes the "
    "right one in each place the spec allows.",
    Direction.BUYER_API,
    _auth_enforced,
    _producer_ops,
    (NEEDS_KEY,),
    probes_credentials=True,
)
AUTH_BEFORE_BODY = Check(
    "buyer.api.auth-before-body",
    "Without a key, a malformed or schema-breaking body is still 401, never 400/422.",
    Direction.BUYER_API,
    _auth_before_body,
    _with_body,
    probes_credentials=True,
)

CHECKS = (AUTH_ENFORCED, AUTH_BEFORE_BODY)
