"""The webhook tap: sits between the buyer and the producer, records every delivery, forwards it.

Point the buyer's webhook URL at the tap. Each delivery is forwarded unchanged (same path, body
and headers, so signatures still verify) to ``forward_to`` + the same path, and the producer's
answer goes back to the buyer. The :class:`WebhookLog` records method, path, headers, raw body,
receive time and the producer's answer, numbering the attempts of each webhook-id, so the buyer's
retries can be seen. ``down = True`` simulates an outage of the producer: the tap answers 503
and forwards nothing.

``fault`` (a :class:`NetworkFault`) is what the network between the portals does to each
delivery while it is set: deliver it (the default), refuse it as a receiver that is down, lose it
on the way (drop), hold it back (delay: the buyer sees a timeout and retries; the copy is kept),
deliver it and keep a copy (duplicate), or deliver it and lose the producer's answer (the buyer
retries, so the producer sees the same webhook-id again). :meth:`WebhookTap.release` forwards
held copies later, in the order held or reversed; :meth:`WebhookTap.reset` ends every fault and
discards what is held (a scenario's network never outlives it). The webhook-id, body and
signature of a held copy are the buyer's own, so the producer sees a genuine repeat.

The tap is an ASGI app (``tap.app``); serve it with ``lotflow.serving.ServerThread(tap.app)`` or
drive it in-process with ``httpx.ASGITransport``.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lotflow.clock import Clock, SystemClock

__all__ = [
    "EFFECTS",
    "Delivery",
    "HeldCopy",
    "NetworkEffect",
    "NetworkFault",
    "WebhookLog",
    "WebhookTap",
]

NOT_FORWARDED = {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te"}
NOT_FORWARDED |= {"upgrade", "proxy-authorization", "proxy-connection"}
OFFLINE_DETAIL = "The producer portal is offline (an outage simulated by lotflow's webhook tap)."


class NetworkFault(StrEnum):
    """What the network between the portals does to each delivery (``network: {fault: ...}``)."""

    DELIVER = "deliver"
    RECEIVER_DOWN = "receiver-down"
    DROP = "drop"
    DELAY = "delay"
    DUPLICATE = "duplicate"
    LOST_ANSWER = "lost-answer"


@dataclass(frozen=True)
class NetworkEffect:
    """A fault's effect: whether the delivery reaches the producer now, whether a copy is kept
    for later, what the buyer is answered instead of the producer's answer (None: the
    producer's own), and how the log names it."""

    forward: bool
    keep: bool
    refusal: tuple[int, str, str] | None
    named: str


EFFECTS = {
    NetworkFault.DELIVER: NetworkEffect(True, False, None, ""),
    NetworkFault.RECEIVER_DOWN: NetworkEffect(
        False, False, (503, "Service Unavailable", OFFLINE_DETAIL), "refused"
    ),
    NetworkFault.DROP: NetworkEffect(
        False,
        False,
        (502, "Bad Gateway", "The webhook was lost on the way (lotflow's webhook tap dropped it)."),
        "dropped",
    ),
    NetworkFault.DELAY: NetworkEffect(
        False,
        True,
        (
            504,
            "Gateway Timeout",
            "The webhook is held back on the way (lotflow's webhook tap delays it).",
        ),
        "held",
    ),
    NetworkFault.DUPLICATE: NetworkEffect(True, True, None, "duplicated"),
    NetworkFault.LOST_ANSWER: NetworkEffect(
        True,
        False,
        (
            504,
            "Gateway Timeout",
            "The producer's answer was lost on the way back (lotflow's webhook tap).",
        ),
        "answer lost",
    ),
}
"""Each fault's effect, as the tap applies it (the model's in-process network reads it too)."""


@dataclass(frozen=True)
class Delivery:
    """One delivery attempt as the tap saw it, and the producer's answer.

    ``status`` is None when the producer could not be reached; ``forwarded`` is False when the
    tap refused the delivery itself (outage, or no producer URL configured). ``network`` says
    what a network fault did to it (``dropped``, ``held``, ``duplicated``, ``answer lost``,
    ``refused``, ``released`` for a held copy forwarded late; empty: nothing).
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: datetime
    status: int | None
    answer: bytes = b""
    forwarded: bool = True
    attempt: int = 1
    payload: Any = field(default=None, repr=False)
    network: str = ""

    @property
    def delivered(self) -> bool:
        """The producer accepted it (a 2xx)."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def event(self) -> str:
        """The event name from the body (``event``, or Standard Webhooks' ``type``)."""
        return _event(self.payload)

    @property
    def webhook_id(self) -> str:
        """The ``webhook-id`` header (the same on every retry of one event)."""
        found = self.headers.get("webhook-id")
        if not found and isinstance(self.payload, dict):
            found = self.payload.get("eventId") or self.payload.get("id")
        return str(found or "")


class WebhookLog:
    """A thread-safe record of deliveries, with waiting on a condition until a deadline."""

    def __init__(self) -> None:
        self._items: list[Delivery] = []
        self._changed = threading.Condition()  # re-entrant: predicates may read the log

    def record(self, delivery: Delivery) -> Delivery:
        """Add a delivery, numbering its attempt among those with the same webhook-id."""
        with self._changed:
            earlier = sum(1 for d in self._items if d.webhook_id == delivery.webhook_id)
            numbered = replace(delivery, attempt=earlier + 1)
            self._items.append(numbered)
            self._changed.notify_all()
        return numbered

    def mark(self) -> int:
        """A position in the log; :meth:`since` returns what was recorded after it."""
        with self._changed:
            return len(self._items)

    def since(self, mark: int = 0) -> list[Delivery]:
        """The deliveries recorded after ``mark``, oldest first."""
        with self._changed:
            return list(self._items[mark:])

    def __len__(self) -> int:
        return self.mark()

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate()`` is true (re-checked at each new delivery) or ``timeout``
        seconds pass; returns the predicate's last value."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout=max(timeout, 0.0))


@dataclass(frozen=True)
class HeldCopy:
    """A delivery the network holds back, to forward later exactly as the buyer sent it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    payload: Any = field(default=None, repr=False)

    @property
    def event(self) -> str:
        return _event(self.payload)


class WebhookTap:
    """The tap's state (``forward_to``, ``down``, ``fault``, ``held``, ``log``) and its ASGI
    ``app``."""

    def __init__(
        self,
        forward_to: str = "",
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.forward_to = forward_to
        self.down = False
        self.fault = NetworkFault.DELIVER
        self.log = WebhookLog()
        self._held: list[HeldCopy] = []
        self._holding = threading.Lock()
        self._transport = transport
        self._clock = clock or SystemClock()
        self._timeout = timeout
        self.app = Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST", "PUT"])])

    # ---------------------------------------------------------------- the network's state
    @property
    def held(self) -> list[HeldCopy]:
        """The copies held back now, oldest first."""
        with self._holding:
            return list(self._held)

    def reset(self) -> list[HeldCopy]:
        """Forward again: no outage, no fault; the held copies are discarded and returned."""
        self.down = False
        self.fault = NetworkFault.DELIVER
        with self._holding:
            discarded, self._held = self._held, []
        return discarded

    def release(
        self, chosen: Callable[[HeldCopy], bool] = lambda _copy: True, *, reversed_: bool = False
    ) -> list[Delivery]:
        """Forward the held copies ``chosen`` picks now (in the order held, or newest first),
        from any thread; what each delivery became, as recorded."""
        with self._holding:
            picked = [c for c in self._held if chosen(c)]
            self._held = [c for c in self._held if c not in picked]
        ordered = picked[::-1] if reversed_ else picked
        return asyncio.run(self._release_all(ordered))

    async def _release_all(self, copies: list[HeldCopy]) -> list[Delivery]:
        found = []
        for copy in copies:
            received_at = self._clock.now()
            status, answer, _ = await self._forward(copy)
            found.append(self._record(copy, received_at, status, answer, True, "released"))
        return found

    # ---------------------------------------------------------------- a delivery
    async def _receive(self, request: Request) -> Response:
        received_at = self._clock.now()
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        copy = HeldCopy(
            request.method, request.url.path, request.url.query, headers, body, _json(body)
        )
        if self.down or not self.forward_to:
            refusal = self._refusal()
            self._record(copy, received_at, 503, bytes(refusal.body), False, "")
            return refusal
        fault = self.fault
        effect = EFFECTS[fault]
        status: int | None = None
        answer = b""
        if effect.forward:
            status, answer, response = await self._forward(copy)
        if effect.keep:
            with self._holding:
                self._held.append(copy)
        if effect.refusal is not None:
            response = _problem(*effect.refusal)
            if fault is NetworkFault.RECEIVER_DOWN:  # refused as an outage refuses
                status, answer = effect.refusal[0], bytes(response.body)
        self._record(copy, received_at, status, answer, effect.forward, effect.named)
        return response

    def _refusal(self) -> Response:
        reason = (
            OFFLINE_DETAIL if self.down else "The webhook tap has no producer URL to forward to."
        )
        return _problem(503, "Service Unavailable", reason)

    def _record(
        self,
        copy: HeldCopy,
        received_at: datetime,
        status: int | None,
        answer: bytes,
        forwarded: bool,
        network: str,
    ) -> Delivery:
        return self.log.record(
            Delivery(
                method=copy.method,
                path=copy.path,
                headers=copy.headers,
                body=copy.body,
                received_at=received_at,
                status=status,
                answer=answer,
                forwarded=forwarded,
                payload=copy.payload,
                network=network,
            )
        )

    async def _forward(self, copy: HeldCopy) -> tuple[int | None, bytes, Response]:
        target = self.forward_to.rstrip("/") + copy.path
        if copy.query:
            target += "?" + copy.query
        forwarded = {k: v for k, v in copy.headers.items() if k not in NOT_FORWARDED}
        try:
            async with httpx.AsyncClient(
                transport=self._transport, timeout=self._timeout
            ) as client:
                answer = await client.request(
                    copy.method, target, content=copy.body, headers=forwarded
                )
        except httpx.HTTPError as exc:
            detail = (
                f"The producer portal at {self.forward_to} did not answer: {type(exc).__name__}."
            )
            return None, b"", _problem(502, "Bad Gateway", detail)
        media = answer.headers.get("content-type")
        return (
            answer.status_code,
            answer.content,
            Response(answer.content, answer.status_code, media_type=media),
        )


def _problem(status: int, title: str, detail: str) -> Response:
    content = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JSONResponse(content, status, media_type="application/problem+json")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _event(payload: Any) -> str:
    if isinstance(payload, dict):
        return str(payload.get("event") or payload.get("type") or "?")
    return "?"
