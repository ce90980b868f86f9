"""The ASGI plumbing the middleware faults share: read a request's body and pass it on, answer
instead of the app, rewrite the app's answer."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Answer", "BodyInspector", "OnPaths", "ResponseRewriter", "answer"]

Answer = tuple[int, str, bytes]
"""status, content type, body."""


async def answer(send: Send, status: int, media_type: str, body: bytes) -> None:
    """Send a whole response."""
    headers = [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyInspector:
    """Reads the body of the requests ``matches`` selects and lets ``decide`` answer instead
    of the app (returning an :data:`Answer`) or let the app have the request (``None``)."""

    def __init__(
        self,
        app: ASGIApp,
        matches: Callable[[str, str], bool],
        decide: Callable[[str, bytes], Answer | None],
    ) -> None:
        self.app, self.matches, self.decide = app, matches, decide

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.matches(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        body = await _read(receive)
        decided = self.decide(scope["path"], body)
        if decided is not None:
            await answer(send, *decided)
            return
        await self.app(scope, _replay(body), send)


async def _read(receive: Receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class ResponseRewriter:
    """Buffers the app's answers and lets ``rewrite`` replace a whole one."""

    def __init__(self, app: ASGIApp, rewrite: Callable[[int, str, bytes], Answer | None]) -> None:
        self.app, self.rewrite = app, rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await self._finish(send, start, b"".join(chunks))

        await self.app(scope, receive, capture)

    async def _finish(self, send: Send, start: dict[str, Any], body: bytes) -> None:
        headers = dict((k.decode().lower(), v.decode()) for k, v in start.get("headers", []))
        new = self.rewrite(start["status"], headers.get("content-type", ""), body)
        if new is None:
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        await answer(send, *new)


def parsed(body: bytes) -> Any:
    """The body as JSON, or ``None``."""
    try:
        return json.loads(body)
    except ValueError:
        return None


class OnPaths:
    """A :class:`ResponseRewriter` for the paths ``pattern`` matches only."""

    def __init__(self, app: Any, pattern: re.Pattern[str], rewrite: Any) -> None:
        self.app, self.pattern = app, pattern
        self.rewriter = ResponseRewriter(app, rewrite)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.pattern.match(scope["path"]):
            await self.rewriter(scope, receive, send)
        else:
            await self.app(scope, receive, send)
