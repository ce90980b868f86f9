"""What the buyer checks share: requirements, request bodies taken from the spec's examples,
and the shapes of evidence."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from lotflow.openapi import Operation, resolve
from lotflow.problems import PROBLEM_MEDIA_TYPE
from lotflow.terms import terms_on
from lotflow.verify.registry import Requirement
from lotflow.verify.results import Evidence, Exchange, Severity, SubjectResult, failed
from lotflow.verify.session import Answer, VerifySession

__all__ = [
    "NEEDS_KEY",
    "NEEDS_OPERATOR",
    "NEEDS_SETUP",
    "SETUP_REMEDY",
    "SetupFailedError",
    "answered",
    "bid_for",
    "example_body",
    "external_id",
    "is_problem",
    "legacy_error",
    "placeholder_path",
    "terms_on",
    "wanted",
]

NEEDS_KEY = Requirement(
    "producer key",
    lambda s: s.has_producer_key,
    "no producer API key for the buyer's producer-facing API",
    "give --api-key (or BUYER_API_KEY / PRODUCER_API_KEY in the environment or --credentials)",
)
NEEDS_OPERATOR = Requirement(
    "operator credentials",
    lambda s: s.has_operator,
    "no operator credentials for the buyer's own side",
    "give --operator-token, --buyer-header or --buyer-cookie (e.g. '__session=<jwt>'), or "
    "LOTFLOW_BUYER_OPERATOR_* in the environment or --credentials",
)
NEEDS_SETUP = Requirement(
    "a way to set up state",
    lambda s: s.can_set_up,
    "no way to bring the buyer's lots, bids and contracts into a state",
    "give operator credentials (--operator-token, --buyer-header, --buyer-cookie: the spec's "
    "operator API sets them up) or --state-url (POST {state, params})",
)

SETUP_REMEDY = (
    "the portal refused a setup step (the reason names it; the API checks show why); if its own "
    "side differs from the spec's operator API, give --state-url"
)

# Members of the spec's examples that are bound to a moment (a date that passes) or to a
# revision (an optimistic-concurrency version): a request built from an example drops them.
_UNSTABLE = ("expiresAt", "version")


class SetupFailedError(Exception):
    """The portal refused a step verify needed to set up a subject (the answer says why)."""

    def __init__(self, step: str, answer: Answer | None = None, reason: str = "") -> None:
        status = f" answered {answer.status}" if answer is not None else ""
        super().__init__(f"setting up failed: {step}{status}{reason and ': ' + reason}")
        self.step = step
        self.answer = answer


def example_body(session: VerifySession, operation_id: str, index: int = 0) -> Any:
    """A copy of the ``index``-th example of the operation's request schema, without the
    members bound to a moment or a revision."""
    operation = session.operations[operation_id]
    schema = resolve(session.spec, operation.request_schema or {})
    examples = schema.get("examples") or [schema.get("example", {})]
    body = copy.deepcopy(examples[min(index, len(examples) - 1)])
    if isinstance(body, dict):
        for name in _UNSTABLE:
            body.pop(name, None)
    return body


def bid_for(session: VerifySession, lot: Mapping[str, Any], external: str) -> dict[str, Any]:
    """The spec's example bid, placed on ``lot``: its unit, at most its volume, a total that
    matches the price per unit, and ``external`` as externalBidId."""
    return terms_on(example_body(session, "submitBid"), lot) | {"externalBidId": external}


def external_id(tag: str = "") -> str:
    """A fresh externalBidId (unique across runs against a portal that keeps its data)."""
    return f"lotflow-verify-{tag + '-' if tag else ''}{secrets.token_hex(6)}"


def placeholder_path(session: VerifySession, operation: Operation) -> dict[str, str]:
    """A well-formed value for each path parameter (its schema's example), naming nothing."""
    values = {}
    for parameter in operation.parameters:
        if parameter.get("in") == "path":
            schema = resolve(session.spec, parameter.get("schema") or {})
            example = (schema.get("examples") or [schema.get("example")])[0]
            values[parameter["name"]] = str(example or "000000000000000000000000")
    return values


def is_problem(answer: Answer) -> bool:
    """An RFC 9457 problem: its media type, an object with ``title`` and the same ``status``."""
    body = answer.json()
    return (
        answer.media_type == PROBLEM_MEDIA_TYPE
        and isinstance(body, dict)
        and isinstance(body.get("title"), str)
        and body.get("status") == answer.status
    )


def legacy_error(answer: Answer) -> bool:
    """Today's portals' error shape: a JSON object with an ``error`` string."""
    body = answer.json()
    return isinstance(body, dict) and isinstance(body.get("error"), str)


def wanted(
    expected: str,
    observed: str,
    answers: Iterable[Answer | Exchange],
    severity: Severity = Severity.FAILURE,
) -> Evidence:
    """Evidence from the answers (or exchanges) that show the failure."""
    exchanges = tuple(a.exchange if isinstance(a, Answer) else a for a in answers)
    return Evidence(expected, observed, exchanges, severity)


def answered(check_id: str, subject: str, expected: str, answer: Answer) -> SubjectResult:
    """``subject`` failed: ``answer`` is not what the contract wanted (``expected``)."""
    return failed(check_id, subject, wanted(expected, f"answered {describe(answer)}", [answer]))


def describe(answer: Answer) -> str:
    """``401 application/json {"error": ...}``: the status, media type and start of the body."""
    text = answer.text if len(answer.text) <= 160 else answer.text[:160] + "…"
    return f"{answer.status} {answer.media_type or '(no content type)'} {text}".strip()
