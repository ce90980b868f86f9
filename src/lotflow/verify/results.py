"""What a verify run finds, as data: one :class:`SubjectResult` per check and subject.

A subject is what a check looked at: an operation (``submitBid``), an event, or a workflow case
(``buyer.bid pending: counterBid``). Its outcome is passed, failed (with :class:`Evidence`: the
request, the response, what the contract wanted) or not run (with the reason and what to provide
so that it runs). Not run never counts as passed. Reporters read these; nothing here prints.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "RATE_LIMITED",
    "RATE_LIMITED_REMEDY",
    "TOO_MANY_REQUESTS",
    "Evidence",
    "Exchange",
    "Outcome",
    "Severity",
    "SubjectResult",
]

TOO_MANY_REQUESTS = 429
RATE_LIMITED = (
    "the portal answered 429 (too many requests): a rate limit, most likely on failed "
    "authentications, which verify's auth probes trip; what was asked was not judged"
)
RATE_LIMITED_REMEDY = (
    "raise or lift the portal's limit for the run (the reference portals: "
    "LOTFLOW_AUTH_FAILURE_LIMIT=0), or allow-list the address verify runs from"
)


class Outcome(enum.StrEnum):
    """How a check ended for one subject."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_RUN = "not_run"


class Severity(enum.StrEnum):
    """A failure breaks the contract; a deviation is a known dialect (the legacy profile) that
    lotflow could still talk to, reported so that the team knows where it stands."""

    FAILURE = "failure"
    DEVIATION = "deviation"


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and its response, as sent and as received (bodies as text, shortened)."""

    method: str
    url: str
    request_headers: Mapping[str, str] = field(default_factory=dict)
    request_body: str | None = None
    status: int | None = None
    response_headers: Mapping[str, str] = field(default_factory=dict)
    response_body: str | None = None
    error: str | None = None  # when no response came (connection refused, timeout)

    def to_dict(self) -> dict[str, Any]:
        return {
            "request": {
                "method": self.method,
                "url": self.url,
                "headers": dict(self.request_headers),
                "body": self.request_body,
            },
            "response": None
            if self.status is None
            else {
                "status": self.status,
                "headers": dict(self.response_headers),
                "body": self.response_body,
            },
            "error": self.error,
        }


@dataclass(frozen=True)
class Evidence:
    """Why a subject failed: what the contract wanted, what was observed, and the exchanges."""

    expected: str
    observed: str
    exchanges: tuple[Exchange, ...] = ()
    severity: Severity = Severity.FAILURE

    def to_dict(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "observed": self.observed,
            "severity": str(self.severity),
            "exchanges": [exchange.to_dict() for exchange in self.exchanges],
        }


@dataclass(frozen=True)
class SubjectResult:
    """The outcome of one check for one subject."""

    check_id: str
    subject: str
    outcome: Outcome
    evidence: Evidence | None = None  # failed only
    reason: str = ""  # not run: why
    remedy: str = ""  # not run: what to provide
    accepted: bool = False  # a failure the baseline accepts

    @property
    def severity(self) -> Severity | None:
        return self.evidence.severity if self.evidence is not None else None

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "check": self.check_id,
            "subject": self.subject,
            "outcome": str(self.outcome),
        }
        if self.evidence is not None:
            found["evidence"] = self.evidence.to_dict()
        if self.outcome is Outcome.NOT_RUN:
            found |= {"reason": self.reason, "remedy": self.remedy}
        if self.accepted:
            found["accepted"] = True
        return found


def passed(check_id: str, subject: str) -> SubjectResult:
    return SubjectResult(check_id, subject, Outcome.PASSED)


def failed(check_id: str, subject: str, evidence: Evidence) -> SubjectResult:
    return SubjectResult(check_id, subject, Outcome.FAILED, evidence)


def not_run(check_id: str, subject: str, reason: str, remedy: str) -> SubjectResult:
    return SubjectResult(check_id, subject, Outcome.NOT_RUN, reason=reason, remedy=remedy)


def rate_limited(check_id: str, subject: str) -> SubjectResult:
    """Not run: the portal answered 429, so what was asked was not judged."""
    return not_run(check_id, subject, RATE_LIMITED, RATE_LIMITED_REMEDY)
