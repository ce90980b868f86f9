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
client for asyncio: both build their calls with :func:`lotflow.speccall.build_call` and share
one retry policy; only sending and sleeping differ.
"""

from __future__ import annotations

import asyncio
import difflib
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypedDict, Unpack

import httpx

from lotflow.clock import Clock, SystemClock
from lotflow.errors import ConfigError, TransportError
from lotflow.openapi import Operation, operations
from lotflow.retry_after import parse_retry_after
from lotflow.speccall import SpecCall, build_call

__all__ = [
    "RETRYABLE_STATUSES",
    "AsyncSpecClient",
    "Backoff",
    "CallParts",
    "ClientOptions",
    "SpecClient",
    "exponential_backoff",
]

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
_RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

Backoff = Callable[[int], float]
Outcome = httpx.Response | httpx.TransportError


def exponential_backoff(base: float = 0.25, cap: float = 5.0) -> Backoff:
    """Seconds to wait after failed attempt ``n`` (from 1): ``base * 2**(n-1)``, at most ``cap``."""
    return lambda attempt: min(cap, base * 2 ** (attempt - 1))


class ClientOptions(TypedDict, total=False):
    """What both clients take besides the spec, the URL, the transport and the sleep function."""

    headers: Mapping[str, str] | None
    timeout: float
    retries: int
    backoff: Backoff | None
    retry_after_cap: float
    clock: Clock | None


class CallParts(TypedDict, total=False):
    """A call's parameters: ``body`` is JSON-encoded, or sent as is when it is ``bytes``."""

    path: Mapping[str, Any] | None
    query: Mapping[str, Any] | None
    body: Any
    headers: Mapping[str, str] | None


class _SpecCalls:
    """What both clients share: building calls from the spec and the retry policy."""

    def __init__(self, spec: dict[str, Any], base_url: str, options: ClientOptions) -> None:
        self.operations = operations(spec)
        self.base_url = base_url.rstrip("/")
        self.retries = max(0, options.get("retries", 2))
        self.headers = dict(options.get("headers") or {})
        self.timeout = options.get("timeout", 10.0)
        self._backoff = options.get("backoff") or exponential_backoff()
        self._retry_after_cap = options.get("retry_after_cap", 30.0)
        self._clock = options.get("clock") or SystemClock()
        self._title = str((spec.get("info") or {}).get("title", "the spec"))

    def prepare(self, operation_id: str, parts: CallParts) -> SpecCall:
        """The call of ``operation_id`` (``ConfigError`` for an unknown one or bad path values)."""
        return build_call(self._operation(operation_id), self.base_url, **parts)

    def attempts(self, call: SpecCall) -> range:
        """The attempt numbers (from 1) the call may take."""
        return range(1, 2 + self.retries if call.retryable else 2)

    def settle(self, call: SpecCall, attempt: int, outcome: Outcome) -> httpx.Response | float:
        """The response to return, or the seconds to wait before the next attempt; raises
        ``TransportError`` when the party stays unreachable."""
        last = attempt == self.attempts(call)[-1]
        if isinstance(outcome, httpx.TransportError):
            if last or not isinstance(outcome, _RETRYABLE_ERRORS):
                raise self._unreachable(call, attempt, outcome) from outcome
            return self._backoff(attempt)
        if last or outcome.status_code not in RETRYABLE_STATUSES:
            return outcome
        return self._delay(attempt, outcome)

    def _delay(self, attempt: int, response: httpx.Response) -> float:
        """Seconds to wait after failed ``attempt``: Retry-After if given (capped), else backoff."""
        asked = parse_retry_after(response.headers.get("retry-after"), self._clock.now())
        if asked is not None:
            return min(asked, self._retry_after_cap)
        return self._backoff(attempt)

    def _unreachable(self, call: SpecCall, attempt: int, exc: Exception) -> TransportError:
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
                f"did you mean {close[0]!r}?" if close else f"known: {', '.join(self.operations)}"
            )
            raise ConfigError(f"{self._title} has no operation {operation_id!r}; {hint}")
        return op


class SpecClient(_SpecCalls):
    """A blocking client for the operations of ``spec`` at ``base_url``."""

    def __init__(
        self,
        spec: dict[str, Any],
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(spec, base_url, options)
        self._http = httpx.Client(headers=self.headers, timeout=self.timeout, transport=transport)
        self._sleep = sleep

    def call(self, operation_id: str, **parts: Unpack[CallParts]) -> httpx.Response:
        """Call an operation (see :class:`CallParts`), retrying as the policy allows."""
        call = self.prepare(operation_id, parts)
        for attempt in self.attempts(call):
            outcome = self._send(call)
            settled = self.settle(call, attempt, outcome)
            if isinstance(settled, httpx.Response):
                return settled
            if isinstance(outcome, httpx.Response):
                outcome.close()
            self._sleep(settled)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _send(self, call: SpecCall) -> Outcome:
        try:
            return self._http.request(call.method, call.url, **call.send_args())
        except httpx.TransportError as exc:
            return exc

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> SpecClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncSpecClient(_SpecCalls):
    """The asyncio twin of :class:`SpecClient` (same calls, same policy, awaitable ``call``)."""

    def __init__(
        self,
        spec: dict[str, Any],
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(spec, base_url, options)
        self._http = httpx.AsyncClient(
            headers=self.headers, timeout=self.timeout, transport=transport
        )
        self._sleep = sleep

    async def call(self, operation_id: str, **parts: Unpack[CallParts]) -> httpx.Response:
        """Call an operation (see :class:`CallParts`), retrying as the policy allows."""
        call = self.prepare(operation_id, parts)
        for attempt in self.attempts(call):
            outcome = await self._send(call)
            settled = self.settle(call, attempt, outcome)
            if isinstance(settled, httpx.Response):
                return settled
            if isinstance(outcome, httpx.Response):
                await outcome.aclose()
            await self._sleep(settled)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _send(self, call: SpecCall) -> Outcome:
        try:
            return await self._http.request(call.method, call.url, **call.send_args())
        except httpx.TransportError as exc:
            return exc

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncSpecClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
