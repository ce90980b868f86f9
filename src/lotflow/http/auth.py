"""Authentication of one operation: its security alternatives, each a list of schemes, tried in
order; the first alternative whose every scheme's authenticator returns a principal wins.

An authenticator is a sync callable ``(request, raw_body) -> principal | None`` run on the event
loop, so it must not block (compare keys, check HMACs). ``None`` means "these credentials are
absent or wrong". It explains a rejection by raising: a ``Problem``, or a ``SignatureError``
that is answered here, and only here, as 401 with its code (``stale_signature``,
``invalid_signature``); a ``MissingSignatureError`` counts as "absent" (other alternatives are
still tried). When no alternative succeeds, the first explanation is what the client sees.

An authenticator that depends on the operation it guards (which secrets verify it) is given as
a :class:`ForOperation`: ``build_app`` calls its factory once per operation, with the
:class:`~lotflow.openapi.Operation`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from lotflow.errors import (
    InvalidSignatureError,
    MissingSignatureError,
    SignatureError,
    StaleTimestampError,
)
from lotflow.openapi import Operation
from lotflow.problems import Problem

__all__ = [
    "Authenticator",
    "ForOperation",
    "OperationAuth",
    "SchemeAuthenticator",
    "authenticator_for",
    "signature_problem",
]

Authenticator = Callable[[Request, bytes], Any]


@dataclass(frozen=True)
class ForOperation:
    """A scheme's authenticator made per operation: ``make(operation)`` is called once for each
    operation that names the scheme, when the app is built."""

    make: Callable[[Operation], Authenticator]


SchemeAuthenticator = Authenticator | ForOperation
"""What ``build_app`` takes per security scheme: one authenticator, or one per operation."""


def authenticator_for(given: SchemeAuthenticator, operation: Operation) -> Authenticator:
    """The authenticator that guards ``operation``."""
    return given.make(operation) if isinstance(given, ForOperation) else given


_DENIED = object()


class OperationAuth:
    """The security alternatives of one operation, each a list of (scheme, authenticator)."""

    def __init__(self, op: Operation, authenticators: Mapping[str, SchemeAuthenticator]) -> None:
        self.alternatives = [
            [(name, authenticator_for(authenticators[name], op)) for name in alternative]
            for alternative in op.security
        ]
        names = sorted({name for alt in op.security for name in alt})
        self.hint = f"{op.operation_id} needs credentials: one of {', '.join(names)}."

    def principal(self, request: Request, raw: bytes) -> Any:
        """The principal of the first alternative that accepts; 401 when none does."""
        if not self.alternatives:
            return None
        first_reason: Problem | None = None
        for alternative in self.alternatives:
            try:
                principal = _satisfy(alternative, request, raw)
            except Problem as problem:
                first_reason = first_reason or problem
                continue
            if principal is not _DENIED:
                return principal
        raise first_reason or Problem.unauthorized(f"Missing or invalid credentials: {self.hint}")


def _satisfy(alternative: list[tuple[str, Authenticator]], request: Request, raw: bytes) -> Any:
    """The principal of the alternative's first scheme when every scheme accepts, else DENIED."""
    principals = []
    for _name, authenticate in alternative:
        try:
            principal = authenticate(request, raw)
        except MissingSignatureError:
            return _DENIED
        except SignatureError as exc:
            raise signature_problem(exc) from exc
        if principal is None:
            return _DENIED
        principals.append(principal)
    return principals[0] if principals else None


def signature_problem(exc: SignatureError) -> Problem:
    """The 401 answer to a refused signature, coded by why it was refused."""
    return Problem.unauthorized(str(exc), _signature_code(exc))


def _signature_code(exc: SignatureError) -> str:
    if isinstance(exc, StaleTimestampError):
        return "stale_signature"
    return "invalid_signature" if isinstance(exc, InvalidSignatureError) else "unauthorized"
