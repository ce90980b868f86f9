"""Where a buyer under verification sends its webhooks: a small HTTP receiver (served in its
own thread, like the producer simulator's receivers) that records every attempt with its arrival
time and answers as a check scripts it (a status, headers, or an answer held past the sender's
timeout). The team points its buyer's webhook URL at :attr:`WebhookListener.url`."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from lotflow.pact.inbox import CapturedWebhook
from lotflow.serving import ServerThread
from lotflow.verify.results import Exchange

__all__ = ["Received", "Reply", "WebhookListener"]

ACK = {"received": True}


@dataclass(frozen=True)
class Reply:
    """How the listener answers one attempt: ``hold`` seconds first (past the sender's timeout),
    then ``status`` with ``headers``."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    hold: float = 0.0


@dataclass(frozen=True)
class Received(CapturedWebhook):
    """One attempt as it arrived: where and what (as Pact's inbox keeps it), when (monotonic and
    wall-clock seconds) and what the listener answered."""

    at: float
    wall: float
    status: int

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    def entity_id(self) -> str:
        """The id of the entity the event is about (``lot.*`` → the lot's, and so on)."""
        body = self.payload
        entity = body.get(self.event.partition(".")[0]) if isinstance(body, dict) else None
        return str(entity.get("_id")) if isinstance(entity, dict) else ""

    def exchange(self, base: str) -> Exchange:
        return Exchange(
            method="POST",
            url=base + self.path,
            request_headers=dict(self.headers),
            request_body=self.body.decode("utf-8", "replace")[:4000],
            status=self.status,
        )


Script = Callable[["Received"], Reply | None]


class WebhookListener:
    """Records the buyer's webhook attempts and answers them as scripted (200 by default)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await self._app(scope, receive, send)  # a function: uvicorn sees ASGI 3

        self._server = ServerThread(app, host=host, port=port, log_level="warning")
        self._lock = threading.Condition()
        self._received: list[Received] = []
        self._scripts: dict[str, list[Reply]] = {}
        self.down = False  # an outage: every attempt is answered 503
        self.cache: dict[str, Any] = {}  # what the checks of one run share

    # ------------------------------------------------------------------ lifecycle

    @contextmanager
    def running(self) -> Iterator[WebhookListener]:
        with self._server:
            yield self

    @property
    def url(self) -> str:
        return self._server.url

    # ------------------------------------------------------------------ scripting

    def script(self, entity_id: str, replies: Sequence[Reply]) -> None:
        """Answer attempts about ``entity_id`` with ``replies`` in order (then 200)."""
        with self._lock:
            self._scripts[entity_id] = list(replies)

    def received(self, keep: Callable[[Received], bool] = lambda _r: True) -> list[Received]:
        with self._lock:
            return [r for r in self._received if keep(r)]

    def wait(self, until: Callable[[list[Received]], bool], timeout: float) -> bool:
        """Block until ``until(received)`` holds or ``timeout`` passes; whether it held."""
        with self._lock:
            return self._lock.wait_for(lambda: until(self._received), timeout)

    # ------------------------------------------------------------------ serving

    def _reply_for(self, probe: Received) -> Reply:
        with self._lock:
            if self.down:
                return Reply(503)
            queue = self._scripts.get(probe.entity_id())
            return queue.pop(0) if queue else Reply()

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        request = Request(scope, receive)
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        probe = Received(request.url.path, headers, body, time.monotonic(), time.time(), 0)
        reply = self._reply_for(probe)
        if reply.hold:
            await asyncio.sleep(reply.hold)
        content = json.dumps(ACK).encode() if 200 <= reply.status < 300 else b""
        response = Response(content, reply.status, dict(reply.headers), "application/json")
        with self._lock:
            self._received.append(
                Received(probe.path, headers, body, probe.at, probe.wall, reply.status)
            )
            self._lock.notify_all()
        await response(scope, receive, send)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        kind = message["type"].rpartition(".")[2]
        await send({"type": f"{message['type']}.complete"})
        if kind == "shutdown":
            return
