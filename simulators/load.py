"""The buyer simulator as a load generator: many signed webhooks, faults and all.

    result = asyncio.run(send_webhooks(simulator, 5000, concurrency=32))
    print(result.per_second, result.answers)

Each webhook is the spec's own lot-event example under a fresh event id, signed with the
simulator's secret, and goes through the simulator's wire like any webhook of the buyer: the
fault plan applies, every attempt is recorded and its answer checked. :class:`SpreadTransport`
spreads sends over a few connection pools (one shared pool spends its time in bookkeeping
under concurrency; see LIBRARY_NOTES.md).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from lotflow.simulators.buyer import BuyerSimulator

from lotflow.ids import new_event_id
from lotflow.openapi import load_portal_spec
from lotflow.signing import signature_headers

__all__ = ["LoadResult", "SpreadTransport", "StreamTransport", "send_webhooks"]


@dataclass(frozen=True)
class LoadResult:
    """How many webhooks went out, in how long, and the answers (status or error name)."""

    sent: int
    seconds: float
    answers: dict[str, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


class SpreadTransport(httpx.AsyncBaseTransport):
    """Round-robin over ``pools`` HTTP transports of ``per_pool`` connections each."""

    def __init__(self, pools: int = 4, per_pool: int = 8) -> None:
        limits = httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool)
        self._pools = [httpx.AsyncHTTPTransport(limits=limits) for _ in range(pools)]
        self._next = itertools.cycle(self._pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await next(self._next).handle_async_request(request)

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


class StreamTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive straight over asyncio streams: far less CPU per request than
    httpx's pools, for the load generator (plain http; answers with Content-Length or chunked).
    """

    def __init__(self) -> None:
        self._idle: dict[
            tuple[str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
        ] = {}
        self._all: list[asyncio.StreamWriter] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "http":
            raise httpx.UnsupportedProtocol("StreamTransport speaks plain http only")
        key = (request.url.host, request.url.port or 80)
        body = await request.aread()
        try:
            reader, writer = await self._connection(key)
            writer.write(_head(request, key, len(body)) + body)
            await writer.drain()
            status, headers, content = await _answer(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            raise httpx.ReadError(f"{type(exc).__name__}: {exc}", request=request) from exc
        if headers.get("connection", "").lower() == "close":
            writer.close()
        else:
            self._idle.setdefault(key, []).append((reader, writer))
        return httpx.Response(status, headers=list(headers.items()), content=content)

    async def _connection(
        self, key: tuple[str, int]
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        idle = self._idle.get(key)
        if idle:
            return idle.pop()
        try:
            reader, writer = await asyncio.open_connection(*key)
        except OSError as exc:
            raise httpx.ConnectError(f"{key[0]}:{key[1]}: {exc}") from exc
        self._all.append(writer)
        return reader, writer

    async def aclose(self) -> None:
        for writer in self._all:
            writer.close()
        self._all.clear()
        self._idle.clear()


def _head(request: httpx.Request, key: tuple[str, int], length: int) -> bytes:
    target = request.url.raw_path.decode("ascii")
    lines = [f"{request.method} {target} HTTP/1.1", f"host: {key[0]}:{key[1]}"]
    skipped = {"host", "content-length", "transfer-encoding", "connection"}
    lines += [f"{k}: {v}" for k, v in request.headers.items() if k.lower() not in skipped]
    lines.append(f"content-length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    status = int((await reader.readline()).split(b" ", 2)[1])
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return status, headers, await _chunks(reader)
    return status, headers, await reader.readexactly(int(headers.get("content-length", "0")))


async def _chunks(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while size := int((await reader.readline()).split(b";")[0], 16):
        parts.append(await reader.readexactly(size))
        await reader.readline()
    await reader.readline()
    return b"".join(parts)


def _example() -> dict[str, Any]:
    return dict(
        load_portal_spec("buyer")["components"]["schemas"]["LotEventPayload"]["examples"][0]
    )


async def send_webhooks(
    simulator: BuyerSimulator, count: int, *, concurrency: int = 16
) -> LoadResult:
    """Send ``count`` signed lot events to the simulator's producer URL, ``concurrency`` at once."""
    url = f"{simulator.producer_url}/api/webhooks/lots"
    example, slots, answers = _example(), asyncio.Semaphore(concurrency), Counter[str]()

    async def one() -> None:
        event_id = new_event_id()
        body = json.dumps(example | {"eventId": event_id}, separators=(",", ":")).encode()
        headers = signature_headers([simulator.secret], event_id, body, simulator.state.clock)
        request = httpx.Request(
            "POST", url, headers=headers | {"content-type": "application/json"}, content=body
        )
        async with slots:
            try:
                response = await simulator.wire.handle_async_request(request)
                answers[str(response.status_code)] += 1
            except httpx.HTTPError as exc:
                answers[type(exc).__name__] += 1

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    return LoadResult(count, time.perf_counter() - started, dict(answers))
