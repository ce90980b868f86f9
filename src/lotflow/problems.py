"""RFC 9457 problem details: the one shape of every error answer on the wire.

A handler raises a :class:`Problem`; the spec-bound app (``lotflow.http``) renders it as
``application/problem+json`` with ``type``, ``title``, ``status``, ``detail``, ``instance``, the
stable machine-readable ``code`` (``validation_failed``, ``not_found``, ``illegal_transition``,
``unauthorized``, ``payload_too_large``, ``conflict``, ...), ``errors`` (one entry per bad field)
and any extension members (``currentState``, ``operation``, ...).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.responses import Response

from lotflow.errors import ConflictError, DomainError, FieldError, NotFoundError, RuleError

__all__ = ["PROBLEM_MEDIA_TYPE", "PROBLEM_TYPE_BASE", "FieldError", "Problem"]

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://lotflow.dev/problems/"
_STANDARD_MEMBERS = ("type", "title", "status", "detail", "instance", "code", "errors")


class Problem(Exception):  # noqa: N818 - RFC 9457 names it; it is raised only to be answered
    """An error answer; raise it from a handler and the app sends it as problem+json."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        code: str = "error",
        *,
        type: str | None = None,  # the RFC 9457 member is called "type"
        errors: Iterable[FieldError] = (),
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.headers = dict(headers or {})  # sent with the answer (``Retry-After``, ...)
        self.status = status
        self.title = title
        self.detail = detail
        self.code = code
        self.type = type or PROBLEM_TYPE_BASE + code
        self.errors = list(errors)
        self.extra = dict(extra or {})

    def __repr__(self) -> str:
        return f"Problem({self.status}, {self.code!r}, {self.detail or self.title!r})"

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document; extension members never override the standard ones."""
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body["code"] = self.code
        if self.errors:
            body["errors"] = [error.to_dict() for error in self.errors]
        extras = {k: v for k, v in self.extra.items() if k not in _STANDARD_MEMBERS}
        return {**body, **extras}

    def to_response(
        self, instance: str | None = None, headers: Mapping[str, str] | None = None
    ) -> Response:
        """A Starlette response with media type ``application/problem+json`` (the problem's own
        headers, then ``headers``)."""
        content = json.dumps(self.to_dict(instance), separators=(",", ":"), ensure_ascii=False)
        sent = {**self.headers, **(headers or {})}
        return Response(
            content.encode("utf-8"), self.status, headers=sent, media_type=PROBLEM_MEDIA_TYPE
        )

    @classmethod
    def from_error(cls, error: DomainError) -> Problem:
        """The answer to a refusal of the domain: 404 for a missing entity, 409 for a state
        conflict, 422 for a broken rule (400 for any other ``DomainError``)."""
        if isinstance(error, RuleError):
            return cls.validation(error.errors, code=error.code)
        if isinstance(error, NotFoundError):
            return cls(404, "Not found", error.detail, error.code, extra=error.extra)
        if isinstance(error, ConflictError):
            return cls.conflict(error.code, error.detail, **error.extra)
        return cls(400, "Bad request", error.detail, error.code, extra=error.extra)

    @classmethod
    def not_found(cls, what: str, ident: str) -> Problem:
        """404 ``not_found``: no ``what`` with id ``ident`` is visible to the caller."""
        return cls(404, "Not found", f"No {what} with id {ident!r} is visible to you.", "not_found")

    @classmethod
    def conflict(cls, code: str, detail: str, **extra: Any) -> Problem:
        """409 with a specific ``code`` (``illegal_transition``, ``version_conflict``, ...)."""
        return cls(409, _CONFLICT_TITLES.get(code, "Conflict"), detail, code, extra=extra)

    @classmethod
    def validation(
        cls,
        errors: Iterable[FieldError],
        detail: str | None = None,
        code: str = "validation_failed",
    ) -> Problem:
        """422: the request is well-formed but its content breaks the schema or a rule."""
        found = list(errors)
        summary = detail or "; ".join(f"{e.field or '/'} {e.message}" for e in found[:5])
        return cls(422, "Request validation failed", summary or None, code, errors=found)

    @classmethod
    def bad_request(
        cls, detail: str, code: str = "bad_request", errors: Iterable[FieldError] = ()
    ) -> Problem:
        """400: the request is malformed (a bad parameter, a body that is not JSON)."""
        return cls(400, "Bad request", detail, code, errors=errors)

    @classmethod
    def unauthorized(cls, detail: str, code: str = "unauthorized") -> Problem:
        """401: missing or invalid credentials."""
        return cls(401, "Unauthorized", detail, code)

    @classmethod
    def payload_too_large(cls, limit: int) -> Problem:
        """413 ``payload_too_large``: the body is over ``limit`` bytes."""
        detail = f"The request body is larger than the limit of {limit} bytes; nothing was stored."
        return cls(413, "Payload too large", detail, "payload_too_large")

    @classmethod
    def unsupported_media_type(cls, given: str | None, expected: str) -> Problem:
        """415 ``unsupported_media_type``: the body is not of the expected media type."""
        detail = f"Content-Type {given or '(none)'!s} is not accepted; send {expected}."
        return cls(415, "Unsupported media type", detail, "unsupported_media_type")

    @classmethod
    def internal(cls, detail: str, code: str = "internal_error") -> Problem:
        """500: a fault of the server (never of the request); no traceback on the wire."""
        return cls(500, "Internal server error", detail, code)


_CONFLICT_TITLES = {
    "illegal_transition": "Illegal state transition",
    "version_conflict": "Version conflict",
}
