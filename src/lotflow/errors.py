"""The errors lotflow raises on purpose, all under one base class::

    LotflowError                 catch this to catch everything lotflow means to raise
     ├── ConfigError             bad settings, environment or command-line usage   (CLI exit 2)
     ├── SpecError               a spec file that cannot be read, parsed, resolved  (CLI exit 2)
     ├── ScenarioFileError       a scenario file that breaks the scenario format    (CLI exit 2)
     ├── TransportError          another party could not be reached over HTTP
     ├── ServerStartError        a local server did not come up before its deadline
     ├── SignatureError          a webhook that fails authentication
     │    ├── MissingSignatureError   the signature (or legacy Authorization) headers are absent
     │    ├── InvalidSignatureError   no signature matches any configured secret
     │    └── StaleTimestampError     the signed timestamp is outside the accepted window
     └── DomainError             a request the domain refuses (raised by domain and storage code)
          ├── NotFoundError           no such entity is visible to the caller          (HTTP 404)
          ├── ConflictError           the entity's state forbids the change            (HTTP 409)
          │    └── IllegalTransitionError  the workflow has no such transition (illegal_transition)
          └── RuleError               the content breaks a business rule, per field    (HTTP 422)

(:class:`FieldError`, defined here too, is not an error but a finding a ``RuleError`` carries.)

Other layers add their own subclasses (of ``LotflowError`` or of a branch above) in their own
modules. Errors on the wire are not exceptions of this tree: they are
:class:`lotflow.problems.Problem`, and the HTTP boundary (``lotflow.http``) turns a
``DomainError`` into one (``Problem.from_error``), so that domain and storage code import no
HTTP types. A message says what failed, where, the value seen, what was expected, and what to do
next.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ConfigError",
    "ConflictError",
    "DomainError",
    "IllegalTransitionError",
    "InvalidSignatureError",
    "LotflowError",
    "MissingSignatureError",
    "NotFoundError",
    "RuleError",
    "ScenarioFileError",
    "ServerStartError",
    "SignatureError",
    "SpecError",
    "StaleTimestampError",
    "TransportError",
]


class LotflowError(Exception):
    """Base of every error lotflow raises on purpose."""


class ConfigError(LotflowError):
    """Bad settings, environment variables or command-line usage."""


class SpecError(LotflowError):
    """A spec file that cannot be read, parsed or resolved; ``path`` names it when known."""

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        super().__init__(message)
        self.path = Path(path) if path is not None else None


class ScenarioFileError(LotflowError):
    """A scenario file that breaks the scenario format."""


class TransportError(LotflowError):
    """Another party could not be reached, or kept failing, over HTTP."""


class ServerStartError(LotflowError):
    """A server started in-process did not become ready before its deadline."""


class SignatureError(LotflowError):
    """A webhook that fails authentication (Standard Webhooks or the legacy bearer profile)."""


class MissingSignatureError(SignatureError):
    """The signature headers (or the legacy Authorization header) are absent."""


class InvalidSignatureError(SignatureError):
    """No signature matches any configured secret, or the signature headers are malformed."""


class StaleTimestampError(SignatureError):
    """The signed timestamp is too old or too far in the future."""


@dataclass(frozen=True)
class FieldError:
    """One finding about one field: a JSON pointer into the body (``/volume/amount``) or the
    name of a parameter (``limit``)."""

    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """The ``errors[]`` entry on the wire."""
        return {"field": self.field, "message": self.message}


class DomainError(LotflowError):
    """A request the domain refuses. ``code`` is the stable machine-readable reason, ``detail``
    the sentence a person reads, ``extra`` the members a client can act on (``currentState``,
    ``bidId``, ...)."""

    def __init__(self, detail: str, code: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.extra = extra


class NotFoundError(DomainError):
    """No ``what`` with id ``ident`` is visible to the caller (another tenant's entity
    included: it is reported as absent, never as forbidden)."""

    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"No {what} with id {ident!r} is visible to you.", "not_found")
        self.what = what
        self.ident = ident


class ConflictError(DomainError):
    """The entity's current state (or version) forbids the change; nothing was changed."""


class IllegalTransitionError(ConflictError):
    """The workflow has no transition for ``operation`` from ``current`` (to ``target``)."""

    def __init__(self, detail: str, *, current: str, operation: str) -> None:
        super().__init__(detail, "illegal_transition", currentState=current, operation=operation)
        self.current = current
        self.operation = operation


class RuleError(DomainError):
    """The content breaks a rule no schema states; one :class:`FieldError` per finding."""

    def __init__(self, errors: Iterable[FieldError], code: str = "validation_failed") -> None:
        self.errors = list(errors)
        summary = "; ".join(f"{e.field or '/'} {e.message}" for e in self.errors[:5])
        super().__init__(summary or "The request breaks a rule.", code)
