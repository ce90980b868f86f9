"""A webhook receiver that records exactly what arrived on the wire, and answers 200."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass(frozen=True)
class Arrival:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


class RecordingReceiver:
    """Keeps every arrival; ``wait_for(n)`` blocks until n arrived or the deadline passes."""

    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []
        self._changed = threading.Condition()
        self.app = Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST"])])

    async def _receive(self, request: Request) -> Response:
        arrival = Arrival(
            request.url.path,
            {k.lower(): v for k, v in request.headers.items()},
            await request.body(),
            time.monotonic(),
        )
        with self._changed:
            self.arrivals.append(arrival)
            self._changed.notify_all()
        ack: dict[str, Any] = {"received": True, "eventId": arrival.webhook_id}
        return JSONResponse(ack | {"duplicate": False, "applied": True})

    def mark(self) -> int:
        with self._changed:
            return len(self.arrivals)

    def wait_for(self, count: int, since: int = 0, timeout: float = 10.0) -> list[Arrival]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.arrivals) - since >= count, timeout)
            return list(self.arrivals[since:])
