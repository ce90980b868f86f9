"""One call of a spec operation, built from the spec: the URL from the path template (each value
quoted as one path segment), the query, the headers and the body. The one request builder of
the sync and async clients (:mod:`lotflow.client`) and of the scenario engine's caller."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from lotflow.errors import ConfigError
from lotflow.openapi import Operation

__all__ = ["PathParameterError", "SpecCall", "build_call", "fill_path"]

_PATH_PARAM = re.compile(r"\{([^{}]+)\}")
_SAFE_METHODS = ("get", "head")


class PathParameterError(ConfigError):
    """The values given for a path template lack some of its parameters or name others."""

    def __init__(self, operation: Operation, missing: list[str], extra: list[str]) -> None:
        parts = [f"needs {', '.join(missing)}"] if missing else []
        parts += [f"has no {', '.join(extra)}"] if extra else []
        self.reason = " and ".join(parts)
        super().__init__(f"The path of {operation.operation_id} ({operation.path}) {self.reason}.")
        self.operation = operation
        self.needed = _PATH_PARAM.findall(operation.path)
        self.missing = missing
        self.extra = extra


def fill_path(operation: Operation, values: Mapping[str, Any]) -> str:
    """The operation's path with every ``{name}`` replaced by its value, quoted as one segment
    (a string as it is, anything else as JSON text: ``true``, ``5``). Raises
    :class:`PathParameterError` for a missing (or ``None``) value or a name the path lacks."""
    needed = _PATH_PARAM.findall(operation.path)
    missing = [name for name in needed if values.get(name) is None]
    extra = [name for name in values if name not in needed]
    if missing or extra:
        raise PathParameterError(operation, missing, extra)
    return _PATH_PARAM.sub(lambda m: quote(_text(values[m.group(1)]), safe=""), operation.path)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@dataclass(frozen=True)
class SpecCall:
    """One call, ready to send (and to send again)."""

    operation: Operation
    method: str
    url: str
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    json: Any = None

    @property
    def retryable(self) -> bool:
        """Safe to send again: GET, HEAD, or marked ``x-lotflow-idempotent: true``."""
        op = self.operation
        return op.method in _SAFE_METHODS or op.extensions.get("x-lotflow-idempotent") is True

    def send_args(self) -> dict[str, Any]:
        """Keyword arguments of ``httpx.Client.request`` after the method and the URL."""
        args: dict[str, Any] = {"params": self.params, "headers": self.headers}
        if self.content is not None:
            args["content"] = self.content
        elif self.json is not None:
            args["json"] = self.json
        return args

    def request(self, client: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        """The call as an ``httpx.Request`` of ``client`` (its base headers merged in)."""
        return client.build_request(self.method, self.url, **self.send_args())


def build_call(
    operation: Operation,
    base_url: str,
    *,
    path: Mapping[str, Any] | None = None,
    query: Mapping[str, Any] | None = None,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
) -> SpecCall:
    """The call of ``operation`` at ``base_url``. Query values that are ``None`` are left out;
    ``body`` is JSON-encoded, or sent as is (``Content-Type: application/json`` unless given)
    when it is ``bytes``."""
    sent_headers = dict(headers or {})
    raw = isinstance(body, bytes | bytearray)
    if raw and not any(key.lower() == "content-type" for key in sent_headers):
        sent_headers["Content-Type"] = "application/json"
    return SpecCall(
        operation=operation,
        method=operation.method.upper(),
        url=base_url.rstrip("/") + fill_path(operation, path or {}),
        params={k: v for k, v in (query or {}).items() if v is not None},
        headers=sent_headers,
        content=bytes(body) if raw else None,
        json=None if raw else body,
    )
