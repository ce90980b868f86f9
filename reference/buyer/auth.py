"""The buyer's authenticators, one per security scheme of buyer.yaml.

``producerApiKey`` (``X-API-Key``) and ``producerBearer`` (``Authorization: Bearer <key>``) accept
the shared producer key; ``operatorToken`` (``Authorization: Bearer <token>``) names an operator
whose organisation scopes every read and write. Comparisons take the same time whatever the
credentials sent (``hmac.compare_digest`` over digests, every operator compared).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from lotflow.reference.buyer.settings import Operator
from starlette.requests import Request

from lotflow.http import Authenticator

__all__ = ["PRODUCER", "authenticators"]

PRODUCER = "producer-portal"


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def _producer_key(api_key: str) -> Authenticator:
    expected = _digest(api_key)

    def by_header(request: Request, _raw: bytes) -> str | None:
        given = request.headers.get("x-api-key")
        return PRODUCER if given and hmac.compare_digest(_digest(given), expected) else None

    return by_header


def _producer_bearer(api_key: str) -> Authenticator:
    expected = _digest(api_key)

    def by_bearer(request: Request, _raw: bytes) -> str | None:
        given = _bearer(request)
        return PRODUCER if given and hmac.compare_digest(_digest(given), expected) else None

    return by_bearer


def _operator_token(operators: Sequence[Operator]) -> Authenticator:
    known = [(_digest(operator.token), operator) for operator in operators]

    def by_token(request: Request, _raw: bytes) -> Operator | None:
        given = _bearer(request)
        if not given:
            return None
        digest, found = _digest(given), None
        for expected, operator in known:  # no early exit: the time does not tell which matched
            if hmac.compare_digest(digest, expected):
                found = operator
        return found

    return by_token


def authenticators(api_key: str, operators: Sequence[Operator]) -> dict[str, Authenticator]:
    """The authenticator of each security scheme of the buyer spec."""
    return {
        "producerApiKey": _producer_key(api_key),
        "producerBearer": _producer_bearer(api_key),
        "operatorToken": _operator_token(operators),
    }
