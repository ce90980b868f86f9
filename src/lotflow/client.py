"""A client for a portal's API built from its spec: operations by operationId, safe retries.

    buyer = SpecClient(load_portal_spec("buyer"), "http://localhost:3004",
                       headers={"X-API-Key": key})
    response = buyer.call("getExternalLot", path={"lotId": lot_id})

Only safe calls are retried: GET and HEAD, and operations marked ``x-lotflow-idempotent: true``
in the spec (like ``submitBid``). They are retried on connection errors, timeouts, 502, 503, 504
and 429, waiting an exponential backoff, or what ``Retry-After`` asks (up to a cap). A party that
stays unreachable raises ``TransportError`` naming the URL; an HTTP answer, even an error, is
returned as the response. The sleep function, the backoff and the clock (for HTTP-date
``Retry-After`` values) are injectable, so tests never wait. ``AsyncSpecClient`` is the same
client for asyncio.
"""

from __future__ import annotations

import asyncio
import difflib
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from lotflow.clock import Clock, SystemClock
from lotflow.errors import ConfigError, TransportError
from lotflow.openapi import Operation, operations

__all__ = [
    "RETRYABLE_STATUSES",
    "AsyncSpecClient",
    "Backoff",
    "SpecClient",
    "exponential_backoff",
]

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
_RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_SAFE_METHODS = ("get", "head")
_PATH_PARAM = re.compile(r"\{([^{}]+)\}")

Backoff = Callable[[int], float]


def exponential_backoff(base: float = 0.25, cap: float = 5.0) -> Backoff:
    """Seconds to wait after failed attempt ``n`` (from 1): ``base * 2**(n-1)``, at most ``cap``."""
    return lambda attempt: min(cap, base * 2 ** (attempt - 1))


@dataclass(frozen=True)
class _Call:
    """One call, ready to send (and to send again)."""

    method: str
    url: str
    params: dict[str, Any]
    headers: dict[str, str]
    content: bytes | None = None
    json: Any = None
    retryable: bool = False

    def send_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"params": self.params, "headers": self.headers}
        if self.content is not None:
            args["content"] = self.content
        elif self.json is not None:
            args["json"] = self.json
        return args


class _SpecCalls:
    """What both clients share: building calls from the spec and the retry policy."""

    def __init__(
        self,
        spec: dict[str, Any],
        base_url: str,
        *,
        retries: int,
        backoff: Backoff | None,
        retry_after_cap: float,
        clock: Clock | None,
    ) -> None:
        self.operations = operations(spec)
        self.base_url = base_url.rstrip("/")
        self.retries = max(0, retries)
        self._backoff = backoff or exponential_backoff()
        self._retry_after_cap = retry_after_cap
        self._clock = clock or SystemClock()
        self._title = str((spec.get("info") or {}).get("title", "the spec"))

    def prepare(
        self,
        operation_id: str,
        path: Mapping[str, Any] | None,
        query: Mapping[str, Any] | None,
        body: Any,
        headers: Mapping[str, str] | None,
    ) -> _Call:
        op = self._operation(operation_id)
        params = {k: v for k, v in (query or {}).items() if v is not None}
        sent_headers = dict(headers or {})
        if isinstance(body, bytes | bytearray) and not _has(sent_headers, "content-type"):
            sent_headers["Content-Type"] = "application/json"
        return _Call(
            method=op.method.upper(),
            url=self.base_url + _fill_path(op, path or {}),
            params=params,
            headers=sent_headers,
            content=bytes(body) if isinstance(body, bytes | bytearray) else None,
            json=body if not isinstance(body, bytes | bytearray) else None,
            retryable=op.method in _SAFE_METHODS
            or op.extensions.get("x-lotflow-idempotent") is True,
        )

    def attempts(self, call: _Call) -> int:
        return 1 + self.retries if call.retryable else 1

    def should_retry(self, response: httpx.Response) -> bool:
        return response.status_code in RETRYABLE_STATUSES

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Seconds to wait after failed ``attempt``: Retry-After if given (capped), else backoff."""
        asked = _retry_after(response, self._clock) if response is not None else None
        if asked is not None:
            return min(asked, self._retry_after_cap)
        return self._backoff(attempt)

    def unreachable(self, call: _Call, attempt: int, exc: Exception) -> TransportError:
        tries = "1 attempt" if attempt == 1 else f"{attempt} attempts"
        return TransportError(
            f"{call.method} {call.url} failed after {tries}: {type(exc).__name__}: "
            f"{exc or 'no detail'}. Is the party running at {self.base_url}?"
        )

    def _operation(self, operation_id: str) -> Operation:
        op = self.operations.get(operation_id)
        if op is None:
            close = difflib.get_close_matches(operation_id, list(self.operations), n=1)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else f"; known: {', '.join(self.operations)}"
            )
            raise ConfigError(f"{self._title} has no operation {operation_id!r}{hint}")
        return op


def _has(headers: Mapping[str, str], name: str) -> bool:
    return any(key.lower() == name for key in headers)


def _fill_path(op: Operation, values: Mapping[str, Any]) -> str:
    missing = [name for name in _PATH_PARAM.findall(op.path) if values.get(name) is None]
    if missing:
        raise ConfigError(
            f"{op.operation_id} needs path parameter(s) {', '.join(missing)} for {op.path}."
        )
    return _PATH_PARAM.sub(lambda m: quote(str(values[m.group(1)]), safe=""), op.path)


def _retry_after(response: httpx.Response, clock: Clock) -> float | None:
    """Seconds asked by ``Retry-After`` (delta-seconds or an HTTP date), or ``None``."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - clock.now()).total_seconds())


class SpecClient(_SpecCalls):
    """A blocking client for the operations of ``spec`` at ``base_url``."""

    def __init__(
        self,
        spec: dict[str, Any],
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        retries: int = 2,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff: Backoff | None = None,
        retry_after_cap: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(
            spec,
            base_url,
            retries=retries,
            backoff=backoff,
            retry_after_cap=retry_after_cap,
            clock=clock,
        )
        self._http = httpx.Client(headers=dict(headers or {}), timeout=timeout, transport=transport)
        self._sleep = sleep

    def call(
        self,
        operation_id: str,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Call an operation; ``body`` is JSON-encoded, or sent as is when it is ``bytes``."""
        call = self.prepare(operation_id, path, query, body, headers)
        attempts = self.attempts(call)
        for attempt in range(1, attempts + 1):
            response = self._send(call, attempt, attempts)
            if response is not None:
                if attempt == attempts or not self.should_retry(response):
                    return response
                response.close()
            self._sleep(self.delay(attempt, response))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _send(self, call: _Call, attempt: int, attempts: int) -> httpx.Response | None:
        """The response, or ``None`` after a retryable failure that is not the last attempt."""
        try:
            return self._http.request(call.method, call.url, **call.send_args())
        except _RETRYABLE_ERRORS as exc:
            if attempt < attempts:
                return None
            raise self.unreachable(call, attempt, exc) from exc
        except httpx.TransportError as exc:
            raise self.unreachable(call, attempt, exc) from exc

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> SpecClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncSpecClient(_SpecCalls):
    """The asyncio twin of :class:`SpecClient` (same policy, awaitable ``call``)."""

    def __init__(
        self,
        spec: dict[str, Any],
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        backoff: Backoff | None = None,
        retry_after_cap: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(
            spec,
            base_url,
            retries=retries,
            backoff=backoff,
            retry_after_cap=retry_after_cap,
            clock=clock,
        )
        self._http = httpx.AsyncClient(
            headers=dict(headers or {}), timeout=timeout, transport=transport
        )
        self._sleep = sleep

    async def call(
        self,
        operation_id: str,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Call an operation; ``body`` is JSON-encoded, or sent as is when it is ``bytes``."""
        call = self.prepare(operation_id, path, query, body, headers)
        attempts = self.attempts(call)
        for attempt in range(1, attempts + 1):
            response = await self._send(call, attempt, attempts)
            if response is not None:
                if attempt == attempts or not self.should_retry(response):
                    return response
                await response.aclose()
            await self._sleep(self.delay(attempt, response))
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _send(self, call: _Call, attempt: int, attempts: int) -> httpx.Response | None:
        try:
            return await self._http.request(call.method, call.url, **call.send_args())
        except _RETRYABLE_ERRORS as exc:
            if attempt < attempts:
                return None
            raise self.unreachable(call, attempt, exc) from exc
        except httpx.TransportError as exc:
            raise self.unreachable(call, attempt, exc) from exc

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncSpecClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
