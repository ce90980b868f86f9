"""Sending one signed webhook attempt over HTTP.

Each attempt is signed afresh (Standard Webhooks: the same ``webhook-id``, a new
``webhook-timestamp`` and signature), or carries ``Authorization: Bearer <first secret>`` in the
legacy profile. The per-attempt timeout bounds the whole exchange.

Over the network, attempts go through one aiohttp session whose connection pool holds
``concurrency`` keep-alive connections: measured by ``nox -s bench``, it costs a fraction of the
CPU httpx needs per request (LIBRARY_NOTES: httpx spends its time in pool bookkeeping under
concurrency), which is what bounds the dispatcher's rate. When a ``transport`` is given (tests,
simulators: an ``httpx.AsyncBaseTransport`` that replaces the network), attempts go through httpx
clients on that transport instead, with the same headers, timeout and outcome.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
from lotflow.reference.buyer.posters import AiohttpPoster, HttpxPoster, Poster, SendError
from lotflow.reference.buyer.settings import BuyerSettings

from lotflow.clock import Clock, isoformat
from lotflow.signing import legacy_bearer_headers, signature_headers

__all__ = ["Attempt", "WebhookSender"]

USER_AGENT = "lotflow-buyer/1.0 (reference buyer portal)"
_EXCERPT = 200


@dataclass(frozen=True)
class Attempt:
    """What one attempt found: the answer's status (None when there was none) or the error."""

    started_at: str
    duration_ms: float
    status_code: int | None
    error: str | None
    retry_after: str | None


class WebhookSender:
    """Signs and posts events, at most ``concurrency`` at a time."""

    def __init__(
        self,
        settings: BuyerSettings,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        concurrency: int = 16,
        clients: int = 4,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.concurrency = concurrency
        self._transport = transport
        self._client_count = max(1, min(clients, concurrency))
        self._poster: Poster | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None

    async def send(self, event_id: str, url: str, body: bytes) -> Attempt:
        """One attempt of one event; never raises for transport failures."""
        poster, slots = self._pool()
        async with slots:
            headers = self._headers(event_id, body)
            started_at, start = isoformat(self.clock.now()), self.clock.monotonic()
            timeout = self.settings.webhook_timeout
            try:
                async with asyncio.timeout(timeout):
                    answer = await poster.post(url, body, headers)
            except TimeoutError:
                return self._failed(started_at, start, f"timed out after {timeout}s")
            except SendError as exc:
                return self._failed(started_at, start, str(exc)[:_EXCERPT])
        duration = (self.clock.monotonic() - start) * 1000
        return Attempt(started_at, duration, answer.status, answer.error, answer.retry_after)

    def _failed(self, started_at: str, start: float, error: str) -> Attempt:
        return Attempt(started_at, (self.clock.monotonic() - start) * 1000, None, error, None)

    def _headers(self, event_id: str, body: bytes) -> dict[str, str]:
        headers = {"content-type": "application/json", "user-agent": USER_AGENT}
        if self.settings.webhook_auth == "legacy-bearer":
            headers["webhook-id"] = event_id  # not a signature: receivers still de-duplicate
            return headers | legacy_bearer_headers(self.settings.webhook_secrets[0])
        secrets = self.settings.webhook_secrets
        return headers | signature_headers(secrets, event_id, body, self.clock)

    def _pool(self) -> tuple[Poster, asyncio.Semaphore]:
        """The poster and the concurrency slots of the running loop (made once per loop)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._poster is None or self._slots is None:
            timeout = self.settings.webhook_timeout
            if self._transport is None:
                self._poster = AiohttpPoster(self.concurrency)
            else:
                self._poster = HttpxPoster(
                    self._transport, self.concurrency, self._client_count, timeout
                )
            self._slots = asyncio.Semaphore(self.concurrency)
            self._loop = loop
        return self._poster, self._slots

    async def aclose(self) -> None:
        """Close the connections of the current loop."""
        poster, self._poster, self._loop = self._poster, None, None
        if poster is not None:
            await poster.aclose()
