"""Authenticators for the spec-bound app: constant-time key and token checks."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from typing import Any

from lotflow.reference.common.settings import Operator
from starlette.requests import Request

Authenticator = Callable[[Request, bytes], Any]


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _matches(candidate: str | None, secret: str) -> bool:
    return candidate is not None and hmac.compare_digest(candidate.encode(), secret.encode())


def header_key(header: str, key: str, principal: object) -> Authenticator:
    """Authenticates when ``header`` equals ``key``."""
    return lambda request, _raw: principal if _matches(request.headers.get(header), key) else None


def bearer_key(key: str, principal: object) -> Authenticator:
    """Authenticates when the bearer token equals ``key``."""
    return lambda request, _raw: principal if _matches(bearer_token(request), key) else None


def operator_token(operators: Sequence[Operator]) -> Authenticator:
    """Authenticates a bearer operator token; the principal is the operator (its organisation)."""

    def authenticate(request: Request, _raw: bytes) -> Operator | None:
        token = bearer_token(request)
        found = None
        for operator in operators:  # compare against every token: time does not reveal which
            if _matches(token, operator.token):
                found = operator
        return found

    return authenticate
