"""RFC 9457 problem details: the one shape of every error answer on the wire."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://lotflow.dev/problems/"


@dataclass(frozen=True)
class FieldError:
    """One field-level finding: ``field`` is a JSON pointer (``/volume/amount``) or a parameter."""

    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass
class Problem(Exception):
    """An error answer. Raise it from a handler; the app turns it into problem+json."""

    status: int
    title: str
    detail: str | None = None
    code: str = "error"
    type: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.detail or self.title)

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type or PROBLEM_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "code": self.code,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [e.to_dict() for e in self.errors]
        return {**self.extra, **body}

    def to_response(self, instance: str | None = None, headers: dict[str, str] | None = None) -> Response:
        content = json.dumps(self.to_dict(instance), separators=(",", ":"))
        return Response(content, self.status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)

    @classmethod
    def not_found(cls, what: str, ident: str) -> Problem:
        return cls(404, "Not found", f"No {what} {ident} is visible to you.", "not_found")

    @classmethod
    def conflict(cls, code: str, detail: str, **extra: Any) -> Problem:
        titles = {"illegal_transition": "Illegal state transition", "version_conflict": "Version conflict"}
        return cls(409, titles.get(code, "Conflict"), detail, code, extra=extra)

    @classmethod
    def validation(cls, errors: list[FieldError], detail: str | None = None, code: str = "validation_failed") -> Problem:
        summary = detail or "; ".join(f"{e.field or '/'}: {e.message}" for e in errors[:5])
        return cls(422, "Request validation failed", summary, code, errors=errors)

    @classmethod
    def bad_request(cls, detail: str, code: str = "bad_request", errors: list[FieldError] | None = None) -> Problem:
        return cls(400, "Bad request", detail, code, errors=errors or [])

    @classmethod
    def unauthorized(cls, detail: str) -> Problem:
        return cls(401, "Unauthorized", detail, "unauthorized")
