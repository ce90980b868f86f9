"""Authenticators for the spec-bound app (``lotflow.http``), shared by both reference portals.

Every comparison takes the same time whatever credentials were sent: the candidate and the
secret are compared as SHA-256 digests with ``hmac.compare_digest`` (equal lengths, so the
time reveals neither length nor prefix), and an operator token is compared with every
operator's, without an early exit.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from lotflow.reference.common.settings import Operator
from starlette.requests import Request

from lotflow.http import Authenticator

__all__ = ["bearer_key", "bearer_token", "header_key", "operator_token"]


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def header_key(header: str, key: str, principal: object) -> Authenticator:
    """Authenticates as ``principal`` when the ``header`` equals ``key``."""
    expected = _digest(key)

    def by_header(request: Request, _raw: bytes) -> object | None:
        given = request.headers.get(header)
        return principal if given and hmac.compare_digest(_digest(given), expected) else None

    return by_header


def bearer_key(key: str, principal: object) -> Authenticator:
    """Authenticates as ``principal`` when the bearer token equals ``key``."""
    expected = _digest(key)

    def by_bearer(request: Request, _raw: bytes) -> object | None:
        given = bearer_token(request)
        return principal if given and hmac.compare_digest(_digest(given), expected) else None

    return by_bearer


def operator_token(operators: Sequence[Operator]) -> Authenticator:
    """Authenticates a bearer operator token; the principal is the operator (its organisation)."""
    known = [(_digest(operator.token), operator) for operator in operators]

    def by_token(request: Request, _raw: bytes) -> Operator | None:
        given = bearer_token(request)
        if not given:
            return None
        digest, found = _digest(given), None
        for expected, operator in known:  # no early exit: the time does not tell which matched
            if hmac.compare_digest(digest, expected):
                found = operator
        return found

    return by_token
