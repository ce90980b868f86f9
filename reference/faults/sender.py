"""The buyer's webhook-sender faults: each a mistake a buyer team makes when it sends webhooks,
built as a wrapper around the dispatcher's HTTP transport (what it sends, and what it makes of
the answers), never as an edit of the dispatcher. A fault that changes a body or an id signs
again with the buyer's secrets, as the team's code would."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx
from lotflow.reference.faults import Fault

from lotflow.clock import SystemClock
from lotflow.ids import new_event_id
from lotflow.signing import legacy_bearer_headers, signature_headers

__all__ = ["SENDER_FAULTS"]

SIGNATURE = ("webhook-id", "webhook-timestamp", "webhook-signature")


class _Sender(httpx.AsyncBaseTransport):
    """A transport around the real one; subclasses change the request or the answer."""

    def __init__(self, inner: httpx.AsyncBaseTransport, secrets: Sequence[str]) -> None:
        self.inner, self.secrets = inner, tuple(secrets)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def event_of(self, request: httpx.Request) -> dict[str, Any]:
        body = json.loads(request.content)
        return body if isinstance(body, dict) else {}

    def resigned(
        self, request: httpx.Request, body: dict[str, Any], webhook_id: str | None = None
    ) -> httpx.Request:
        """``request`` with ``body`` (its eventId set to ``webhook_id``), signed again."""
        msg_id = webhook_id or request.headers["webhook-id"]
        content = json.dumps(body | {"eventId": msg_id}).encode()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in SIGNATURE}
        headers |= signature_headers(self.secrets, msg_id, content, SystemClock())
        headers["content-length"] = str(len(content))
        return httpx.Request(request.method, request.url, headers=headers, content=content)


def _sender(name: str, mistake: str, cls: type[_Sender]) -> Fault:
    def wrap(inner: httpx.AsyncBaseTransport, secrets: Sequence[str]) -> httpx.AsyncBaseTransport:
        return cls(inner, secrets)

    return Fault(name, "buyer", mistake, transport=wrap)


def _delivered() -> httpx.Response:
    return httpx.Response(200, json={"received": True})


# ---------------------------------------------------------------------------------- signatures


class _Unsigned(_Sender):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        del request.headers["webhook-signature"]
        return await self.inner.handle_async_request(request)


class _LegacyBearer(_Sender):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for name in ("webhook-signature", "webhook-timestamp"):
            del request.headers[name]
        request.headers.update(legacy_bearer_headers(self.secrets[0]))
        return await self.inner.handle_async_request(request)


# ---------------------------------------------------------------------------------- events


class _ExtraUpdate(_Sender):
    """Publishing a lot also runs the lot's update hook: a lot.updated after each lot.published."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self.inner.handle_async_request(request)
        body = self.event_of(request)
        if body.get("event") == "lot.published" and answer.status_code < 300:
            extra = body | {"event": "lot.updated"}
            await self.inner.handle_async_request(self.resigned(request, extra, new_event_id()))
        return answer


class _ContractDropped(_Sender):
    """contract.created is sent only from createContract, not when an accept creates one."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.event_of(request).get("event") == "contract.created":
            return _delivered()
        return await self.inner.handle_async_request(request)


class _AcceptedTwice(_Sender):
    """bid.accepted goes out from the route and again from a database hook, with two ids."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self.inner.handle_async_request(request)
        body = self.event_of(request)
        if body.get("event") == "bid.accepted" and answer.status_code < 300:
            await self.inner.handle_async_request(self.resigned(request, body, new_event_id()))
        return answer


class _ObjectIds(_Sender):
    """The payload is serialised with the database driver's JSON: ids as ``{"$oid": ...}``."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = self.event_of(request)
        for entity in ("lot", "bid", "contract"):
            if isinstance(body.get(entity), dict) and "_id" in body[entity]:
                body[entity] = body[entity] | {"_id": {"$oid": body[entity]["_id"]}}
        return await self.inner.handle_async_request(self.resigned(request, body))


# ---------------------------------------------------------------------------------- retries


class _NoRetries(_Sender):
    """Fire and forget: whatever the receiver answers, the event is marked delivered."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self.inner.handle_async_request(request)
        return answer if answer.status_code < 300 else _delivered()


class _SignedOnce(_Sender):
    """The headers are made once, when the event is queued, and sent again on every retry."""

    def __init__(self, inner: httpx.AsyncBaseTransport, secrets: Sequence[str]) -> None:
        super().__init__(inner, secrets)
        self.first: dict[str, dict[str, str]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        kept = self.first.setdefault(
            request.headers["webhook-id"], {n: request.headers[n] for n in SIGNATURE}
        )
        request.headers.update(kept)
        return await self.inner.handle_async_request(request)


class _RetryAfterIgnored(_Sender):
    """The sender's HTTP wrapper drops the answer's headers: Retry-After is never seen."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self.inner.handle_async_request(request)
        if "retry-after" in answer.headers:
            del answer.headers["retry-after"]
        return answer


class _FollowsRedirects(_Sender):
    """The HTTP client follows redirects: a 3xx sends the signed event wherever it points."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self.inner.handle_async_request(request)
        location = answer.headers.get("location")
        if 300 <= answer.status_code < 400 and location:
            await answer.aread()
            moved = httpx.Request(
                request.method, request.url.join(location), headers=request.headers,
                content=request.content,
            )  # fmt: skip
            return await self.inner.handle_async_request(moved)
        return answer


class _RetriesGone(_Sender):
    """410 is treated like any failure: the event is retried to the end."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self.inner.handle_async_request(request)
        return httpx.Response(500) if answer.status_code == 410 else answer


class _GivesUp(_Sender):
    """After two failed attempts the event is dropped (marked delivered), so what was sent
    during an outage never arrives."""

    LIMIT = 2

    def __init__(self, inner: httpx.AsyncBaseTransport, secrets: Sequence[str]) -> None:
        super().__init__(inner, secrets)
        self.failures: dict[str, int] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        webhook_id = request.headers["webhook-id"]
        if self.failures.get(webhook_id, 0) >= self.LIMIT:
            return _delivered()
        answer = await self.inner.handle_async_request(request)
        if answer.status_code >= 300:
            self.failures[webhook_id] = self.failures.get(webhook_id, 0) + 1
        return answer


Table = Sequence[tuple[str, str, type[_Sender]]]
_TABLE: Table = (
    ("unsigned-webhooks", "webhooks carry webhook-id and -timestamp but no signature", _Unsigned),
    ("legacy-bearer-webhooks", "webhooks carry today's static bearer, not a signature",
     _LegacyBearer),
    ("extra-lot-update", "publishing a lot also sends lot.updated", _ExtraUpdate),
    ("contract-event-dropped", "accepting a bid creates a contract but sends no contract.created",
     _ContractDropped),
    ("accepted-event-twice", "bid.accepted is sent twice, with two webhook-ids", _AcceptedTwice),
    ("object-id-payloads", 'ids in payloads are {"$oid": ...}, not plain strings', _ObjectIds),
    ("no-webhook-retries", "any answer marks the event delivered: nothing is retried",
     _NoRetries),
    ("signed-once", "retries resend the first attempt's timestamp and signature", _SignedOnce),
    ("retry-after-ignored", "Retry-After is never read: retries come on the backoff alone",
     _RetryAfterIgnored),
    ("follows-redirects", "the sender follows a 3xx to wherever it points", _FollowsRedirects),
    ("retries-after-gone", "a 410 is retried like any failure", _RetriesGone),
    ("gives-up-after-two", "an event is dropped after two failed attempts (lost in an outage)",
     _GivesUp),
)  # fmt: skip
SENDER_FAULTS = tuple(_sender(name, mistake, cls) for name, mistake, cls in _TABLE)
