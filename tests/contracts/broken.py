"""Broken buyers, built by wrapping the reference app in a test (the reference portal itself is
never edited): each breaks one thing a pact interaction relies on."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from lotflow.pact.inbox import WebhookInbox

Scope = dict[str, Any]


def dropping_member(method: str, path: str, member: str) -> Any:
    """Wrap an app so that its JSON answers to ``method path`` (a regex) lose ``member``
    (a ``/``-separated path into the body)."""

    def wrap(app: Any) -> Any:
        async def wrapped(scope: Scope, receive: Any, send: Any) -> None:
            hit = scope["type"] == "http" and scope["method"] == method
            if not hit or not re.fullmatch(path, scope["path"]):
                await app(scope, receive, send)
                return
            await app(scope, receive, _rewriting(send, member))

        return wrapped

    return wrap


def _rewriting(send: Any, member: str) -> Any:
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def capture(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = _without(json.loads(b"".join(chunks)), member.split("/"))
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return capture


def _without(document: Any, parts: list[str]) -> bytes:
    node = document
    for part in parts[:-1]:
        node = node.get(part, {}) if isinstance(node, dict) else {}
    if isinstance(node, dict):
        node.pop(parts[-1], None)
    return json.dumps(document).encode()


def skipping_auth(app: Any) -> Any:
    """Wrap an app so that a producer-facing call without a key is let in as if it had one."""

    async def wrapped(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            names = {k.lower() for k, _ in scope["headers"]}
            if b"x-api-key" not in names and b"authorization" not in names:
                from tests.contracts.provider_side import API_KEY

                scope = {**scope, "headers": [*scope["headers"], (b"x-api-key", API_KEY.encode())]}
        await app(scope, receive, send)

    return wrapped


def webhooks_losing(inbox: WebhookInbox, event: str, member: str) -> httpx.AsyncBaseTransport:
    """A webhook transport whose ``event`` deliveries lose ``member`` on the way (a buyer whose
    event builder leaves it out), recorded into ``inbox``."""

    async def handle(request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        payload = json.loads(body)
        if payload.get("event") == event:
            body = _without(payload, member.split("/"))
        inbox.record(request.url.path, dict(request.headers), body)
        return httpx.Response(200, json={"received": True})

    return httpx.MockTransport(handle)


def webhooks_dropping(inbox: WebhookInbox, event: str) -> httpx.AsyncBaseTransport:
    """A webhook transport on which every ``event`` delivery is lost (a buyer that never sends
    it); the others reach ``inbox``."""

    async def handle(request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        if json.loads(body).get("event") != event:
            inbox.record(request.url.path, dict(request.headers), body)
        return httpx.Response(200, json={"received": True})

    return httpx.MockTransport(handle)
