"""What a handler receives and what it answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

__all__ = ["JSON_MEDIA_TYPE", "Handler", "OperationRequest", "Reply"]

JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class OperationRequest:
    """A request that passed size, authentication and validation checks, as a handler sees it."""

    operation_id: str
    path_params: dict[str, Any]
    query: dict[str, Any]
    body: Any
    raw_body: bytes
    headers: Mapping[str, str]
    principal: Any
    request: Request


@dataclass(frozen=True)
class Reply:
    """A handler's answer. ``body`` is JSON-encoded once (compact); ``raw_json`` passes
    already-encoded JSON bytes instead (hot paths that splice stored documents)."""

    status: int
    body: Any = None
    headers: dict[str, str] | None = None
    raw_json: bytes | None = None


Handler = Callable[[OperationRequest], "Reply | Awaitable[Reply]"]
