"""The buyer's authenticators, one per security scheme of buyer.yaml.

``producerApiKey`` (``X-API-Key``) and ``producerBearer`` (``Authorization: Bearer <key>``) accept
the shared producer key; ``operatorToken`` (``Authorization: Bearer <token>``) names an operator
whose organisation scopes every read and write. The comparisons are
``lotflow.reference.common.auth``'s, which take the same time whatever credentials are sent.
"""

from __future__ import annotations

from collections.abc import Sequence

from lotflow.reference.common.auth import bearer_key, header_key, operator_token
from lotflow.reference.common.settings import Operator

from lotflow.http import Authenticator

__all__ = ["PRODUCER", "authenticators"]

PRODUCER = "producer-portal"


def authenticators(api_key: str, operators: Sequence[Operator]) -> dict[str, Authenticator]:
    """The authenticator of each security scheme of the buyer spec."""
    return {
        "producerApiKey": header_key("x-api-key", api_key, PRODUCER),
        "producerBearer": bearer_key(api_key, PRODUCER),
        "operatorToken": operator_token(operators),
    }
