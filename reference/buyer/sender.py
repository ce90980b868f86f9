"""Sending one signed webhook attempt over HTTP.

Each attempt is signed afresh (Standard Webhooks: the same ``webhook-id``, a new
``webhook-timestamp`` and signature), or carries ``Authorization: Bearer <first secret>`` in the
legacy profile. Sends are spread over a few ``httpx.AsyncClient`` objects with small pools: one
client shared by many concurrent sends spends its time in pool bookkeeping (LIBRARY_NOTES; the
benchmark shows it), while a few clients keep throughput up. The per-attempt timeout bounds the
whole exchange.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from dataclasses import dataclass

import httpx
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
    """Signs and posts events, at most ``concurrency`` at a time over ``clients`` clients."""

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
        self._clients: list[httpx.AsyncClient] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._next = itertools.count()

    async def send(self, event_id: str, url: str, body: bytes) -> Attempt:
        """One attempt of one event; never raises for transport failures."""
        client, slots = self._pool()
        async with slots:
            headers = self._headers(event_id, body)
            started_at, start = isoformat(self.clock.now()), self.clock.monotonic()
            timeout = self.settings.webhook_timeout
            try:
                async with asyncio.timeout(timeout):
                    response = await client.post(url, content=body, headers=headers)
            except TimeoutError:
                return self._failed(started_at, start, f"timed out after {timeout}s")
            except httpx.HTTPError as exc:
                return self._failed(started_at, start, f"{type(exc).__name__}: {exc}"[:_EXCERPT])
        duration = (self.clock.monotonic() - start) * 1000
        error = None if response.is_success else _excerpt(response)
        retry_after = response.headers.get("retry-after")
        return Attempt(started_at, duration, response.status_code, error, retry_after)

    def _failed(self, started_at: str, start: float, error: str) -> Attempt:
        return Attempt(started_at, (self.clock.monotonic() - start) * 1000, None, error, None)

    def _headers(self, event_id: str, body: bytes) -> dict[str, str]:
        headers = {"content-type": "application/json", "user-agent": USER_AGENT}
        if self.settings.webhook_auth == "legacy-bearer":
            headers["webhook-id"] = event_id  # not a signature: receivers still de-duplicate
            return headers | legacy_bearer_headers(self.settings.webhook_secrets[0])
        secrets = self.settings.webhook_secrets
        return headers | signature_headers(secrets, event_id, body, self.clock)

    def _pool(self) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        """A client and the concurrency slots of the running loop (made on first use per loop)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._slots is None:
            self._clients = [self._client() for _ in range(self._client_count)]
            self._slots = asyncio.Semaphore(self.concurrency)
            self._loop = loop
        return self._clients[next(self._next) % len(self._clients)], self._slots

    def _client(self) -> httpx.AsyncClient:
        per_client = math.ceil(self.concurrency / self._client_count)
        limits = httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client)
        timeout = httpx.Timeout(self.settings.webhook_timeout)
        return httpx.AsyncClient(transport=self._transport, limits=limits, timeout=timeout)

    async def aclose(self) -> None:
        """Close the clients of the current loop."""
        clients, self._clients, self._loop = self._clients, [], None
        for client in clients:
            await client.aclose()


def _excerpt(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return f"HTTP {response.status_code}" + (f": {text[:_EXCERPT]}" if text else "")
