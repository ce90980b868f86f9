"""A client for a portal's API, built from its spec: operations by operationId, safe retries.

Only safe operations are retried (GET/HEAD, or those marked ``x-lotflow-idempotent: true`` in the
spec, like ``submitBid``), on connection errors, timeouts, 502/503/504 and 429 (no earlier than
Retry-After, capped). A party that stays unreachable raises ``TransportError`` naming the URL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from lotflow.errors import TransportError
from lotflow.openapi import Operation, operations

TRANSIENT = {429, 502, 503, 504}


class SpecClient:
    """Calls the operations of ``spec`` on ``base_url``."""

    def __init__(
        self,
        spec: dict[str, Any],
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.2,
        max_wait: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.operations = operations(spec)
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, headers=dict(headers or {}), timeout=timeout, transport=transport)
        self._retries, self._backoff, self._max_wait, self._sleep = retries, backoff, max_wait, sleep

    def call(
        self,
        operation_id: str,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        op = self.operations[operation_id]
        url = op.path.format(**{k: str(v) for k, v in (path or {}).items()})
        attempts = 1 + (self._retries if _safe(op) else 0)
        for attempt in range(1, attempts + 1):
            try:
                response = self._http.request(op.method.upper(), url, params=query, json=body, headers=headers)
            except httpx.HTTPError as exc:
                if attempt == attempts:
                    raise TransportError(f"{op.method.upper()} {self.base_url}{url} failed: {type(exc).__name__}: {exc}") from exc
                self._sleep(self._delay(attempt, None))
                continue
            if response.status_code not in TRANSIENT or attempt == attempts:
                return response
            self._sleep(self._delay(attempt, response.headers.get("retry-after")))
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after), self._max_wait)
        return min(self._backoff * 2 ** (attempt - 1), self._max_wait)

    def close(self) -> None:
        self._http.close()


def _safe(op: Operation) -> bool:
    return op.method in ("get", "head") or bool(op.extensions.get("x-lotflow-idempotent"))
