"""The HTTP clients behind the webhook sender: one POST, its status, ``Retry-After`` and excerpt.

:class:`AiohttpPoster` sends over the network through one aiohttp session (a pool of
``concurrency`` keep-alive connections). :class:`HttpxPoster` sends through httpx clients on a
given ``httpx.AsyncBaseTransport`` (tests and simulators replace the network with one), spread
over a few clients with small pools, since one httpx client shared by many concurrent sends
spends its time in pool bookkeeping. Both raise :class:`SendError` for a failure without an
answer (connection refused, reset, a protocol error) and leave the timeout to the caller.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import httpx

__all__ = ["AiohttpPoster", "Answer", "HttpxPoster", "Poster", "SendError"]

_EXCERPT = 200


class SendError(Exception):
    """An attempt that got no answer; the message names the failure (``Type: detail``)."""


@dataclass(frozen=True)
class Answer:
    """What the receiver answered: its status, ``Retry-After``, and an excerpt unless 2xx."""

    status: int
    retry_after: str | None
    error: str | None


class Poster(Protocol):
    """Posts one request and returns the answer; closed with :meth:`aclose`."""

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        """POST ``body`` to ``url``; raise :class:`SendError` when nothing was answered."""
        ...

    async def aclose(self) -> None:
        """Close the connections."""
        ...


class AiohttpPoster:
    """Posts over the network through one aiohttp session with ``concurrency`` connections."""

    def __init__(self, concurrency: int) -> None:
        connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
        self._session = aiohttp.ClientSession(
            connector=connector, skip_auto_headers=("User-Agent",), auto_decompress=False
        )

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        try:
            async with self._session.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                success = 200 <= response.status < 300
                text = "" if success else await response.text(errors="replace")
                if success:
                    await response.read()  # leave the connection ready for the next request
                return _answer(response.status, response.headers.get("Retry-After"), text)
        except aiohttp.ClientError as exc:
            raise SendError(f"{type(exc).__name__}: {exc}"[:_EXCERPT]) from exc

    async def aclose(self) -> None:
        await self._session.close()


class HttpxPoster:
    """Posts through ``clients`` httpx clients on ``transport``, in turn."""

    def __init__(
        self, transport: httpx.AsyncBaseTransport, concurrency: int, clients: int, timeout: float
    ) -> None:
        per_client = math.ceil(concurrency / clients)
        limits = httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client)
        self._clients = [
            httpx.AsyncClient(transport=transport, limits=limits, timeout=httpx.Timeout(timeout))
            for _ in range(clients)
        ]
        self._next = itertools.count()

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        client = self._clients[next(self._next) % len(self._clients)]
        try:
            response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SendError(f"{type(exc).__name__}: {exc}"[:_EXCERPT]) from exc
        text = "" if response.is_success else response.text
        return _answer(response.status_code, response.headers.get("retry-after"), text)

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()


def _answer(status: int, retry_after: str | None, text: str) -> Answer:
    if 200 <= status < 300:
        return Answer(status, retry_after, None)
    text = text.strip().replace("\n", " ")
    return Answer(status, retry_after, f"HTTP {status}" + (f": {text[:_EXCERPT]}" if text else ""))
