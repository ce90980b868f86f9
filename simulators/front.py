"""The simulator's front door: an ASGI app in front of the reference portal it reuses.

Requests under ``/_lotflow/`` go to the control app. A request the simulator *watches* (the
producer's calls to the buyer simulator; the buyer's webhooks to the producer simulator) is read
whole, checked (``inspect``), answered as the fault plan says (``faults.ANSWER_FAULTS``) or by
the reference portal, and recorded with its answer. Everything else (the operator API that
scenarios and the control app use) goes straight to the reference portal. Lifespan events pass
through, so the reference portal's dispatcher and database start and stop as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from lotflow.simulators.faults import FaultRule
from lotflow.simulators.findings import Finding
from lotflow.simulators.recording import Exchange, Kind
from lotflow.simulators.state import SimulationState

from lotflow.engine.tap import Delivery
from lotflow.problems import Problem

__all__ = ["CONTROL_PREFIX", "Inspected", "SimulatorFront"]

CONTROL_PREFIX = "/_lotflow"
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
Sleep = Callable[[float], Awaitable[object]]
STATUS_FAULTS = {"error": 500, "gone": 410, "throttle": 429, "unavailable": 503}
STATUS_FAULTS |= {"conflict": 409, "unprocessable": 422}
DEFAULT_MS = {"slow": 500, "timeout": 15000, "late": 5000}
POLL = 0.01  # how often a late answer looks for the webhook it waits for (seconds)


@dataclass(frozen=True)
class Inspected:
    """What a simulator makes of a watched request: what it is about and what broke."""

    kind: Kind
    subject: str
    operation: str | None
    event: str | None
    findings: list[Finding] = field(default_factory=list)


Inspect = Callable[[str, str, str, dict[str, str], bytes], Inspected | None]


@dataclass
class _Answer:
    status: int | None
    headers: list[tuple[bytes, bytes]]
    body: bytes
    error: str | None = None


class SimulatorFront:
    """Routes, watches, faults and records (see the module docstring)."""

    def __init__(
        self,
        inner: ASGIApp,
        control: ASGIApp,
        inspect: Inspect,
        state: SimulationState,
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.inner, self.control, self.inspect, self.state = inner, control, inspect, state
        self._sleep = sleep

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        path = scope["path"]
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            await self.control(scope, receive, send)
            return
        body = await _read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        seen = self.inspect(scope["method"], path, query, headers, body)
        if seen is None:
            answer = await _call(self.inner, scope, body)
        else:
            answer = await self._watched(scope, seen, body, headers, send)
        if answer.status is not None:
            await _respond(send, answer)

    async def _watched(
        self,
        scope: dict[str, Any],
        seen: Inspected,
        body: bytes,
        headers: dict[str, str],
        send: Any,
    ) -> _Answer:
        started, start = self.state.clock.now(), self.state.clock.monotonic()
        rule = (
            None if self.state.down else self.state.chooser.answer_fault(seen.operation, seen.event)
        )
        answer = await self._answer(scope, body, rule, send)
        url = _url(scope)
        answer_headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in answer.headers
        }
        exchange = Exchange(
            seen.kind,
            "inbound",
            seen.subject,
            scope["method"],
            url,
            headers,
            body,
            started,
            (self.state.clock.monotonic() - start) * 1000,
            answer.status,
            answer_headers,
            answer.body,
            answer.error,
            webhook_id=headers.get("webhook-id", ""),
            faults=("down",) if self.state.down else ((rule.fault,) if rule else ()),
        )
        self.state.record(exchange, seen.findings)
        if seen.kind == "webhook":
            self.state.log.record(_delivery(exchange, scope, not self.state.down))
        return answer

    async def _answer(
        self, scope: dict[str, Any], body: bytes, rule: FaultRule | None, send: Any
    ) -> _Answer:
        if self.state.down:
            return _problem(503, "The portal is offline (a simulated outage)", 1)
        if rule is None:
            return await _call(self.inner, scope, body)
        if rule.fault in ("slow", "timeout"):
            await self._sleep(int(rule.param("ms", DEFAULT_MS[rule.fault])) / 1000)
            return await _call(self.inner, scope, body)
        if rule.fault == "late":
            since = len(self.state.recording)
            answer = await _call(self.inner, scope, body)
            await self._until_delivered(since, int(rule.param("ms", DEFAULT_MS["late"])) / 1000)
            return answer
        if rule.fault == "reset":
            _reset(send)
            return _Answer(None, [], b"", "connection reset by the fault plan")
        status = int(rule.param("status", STATUS_FAULTS.get(rule.fault, 500)))
        retry_after = rule.param(
            "retry_after", 1 if rule.fault in ("throttle", "unavailable") else None
        )
        if status < 300:
            return _acknowledged(status)
        return _problem(
            status, f"Answered {status} by the simulator's fault plan ({rule.fault})", retry_after
        )

    async def _until_delivered(self, since: int, seconds: float) -> None:
        """Wait until a webhook the simulator sent is recorded delivered after the first
        ``since`` exchanges, polling at most ``seconds`` (counted in polls, so that an injected
        clock or sleep cannot make it wait forever)."""
        for _ in range(max(1, round(seconds / POLL))):
            if any(e.sent_and_delivered for e in self.state.recording.between(since)):
                return
            await self._sleep(POLL)


def _delivery(exchange: Exchange, scope: dict[str, Any], forwarded: bool) -> Delivery:
    try:
        payload = json.loads(exchange.request_body)
    except ValueError:
        payload = None
    return Delivery(
        exchange.method,
        scope["path"],
        exchange.request_headers,
        exchange.request_body,
        exchange.started_at,
        exchange.status,
        exchange.response_body,
        forwarded,
        payload=payload,
    )


def _url(scope: dict[str, Any]) -> str:
    host, port = scope.get("server") or ("simulator", 80)
    query = scope.get("query_string", b"").decode("latin-1")
    return f"http://{host}:{port}{scope['path']}" + (f"?{query}" if query else "")


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _call(app: ASGIApp, scope: dict[str, Any], body: bytes) -> _Answer:
    """Run ``app`` on a request whose body was already read; collect its answer."""
    answer = _Answer(500, [], b"")
    delivered, finished = False, asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer.status, answer.headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    try:
        await app(scope, receive, send)
    finally:
        finished.set()
    return answer


async def _respond(send: Any, answer: _Answer) -> None:
    headers = [(k, v) for k, v in answer.headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


def _problem(status: int, title: str, retry_after: Any) -> _Answer:
    problem = Problem(
        status,
        title,
        f"{title}; lotflow's simulator did not process the request.",
        code="simulated_fault",
    )
    body = json.dumps(problem.to_dict()).encode()
    headers = [(b"content-type", b"application/problem+json")]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    return _Answer(status, headers, body)


def _acknowledged(status: int) -> _Answer:
    ack = {"received": True, "eventId": "", "duplicate": False, "applied": False}
    body = json.dumps(ack | {"note": "answered by the fault plan, not processed"}).encode()
    return _Answer(status, [(b"content-type", b"application/json")], body)


def _reset(send: Any) -> None:
    """Abort the connection under uvicorn (RST); elsewhere, fail the exchange."""
    cycle: Any = getattr(send, "__self__", None)  # uvicorn's request-response cycle
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionResetError("lotflow simulator: connection reset by the fault plan")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # the connection is gone on purpose: uvicorn must not log "returned without starting response"
    with contextlib.suppress(AttributeError):
        cycle.disconnected = True
