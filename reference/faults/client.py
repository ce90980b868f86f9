"""The producer's faults as the buyer's API client: each a mistake a producer team makes when it
calls the buyer, built as a wrapper around the transport the producer calls the buyer through
(the sync ``SpecClient``'s), never as an edit of the producer."""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx
from fastapi import FastAPI
from lotflow.reference.faults import Fault
from lotflow.reference.faults.asgi import Answer, OnPaths, parsed

from lotflow.ids import new_object_id
from lotflow.openapi import load_portal_spec, operations, path_pattern

__all__ = ["CLIENT_FAULTS", "RENAMED"]

RENAMED = ("bidderName", "companyName")
"""The bid member the ``bid-field-renamed`` client sends under another name."""


def _bid_path() -> str:
    return operations(load_portal_spec("buyer"))["submitBid"].path


class _Client(httpx.BaseTransport):
    """A transport around the real one; subclasses change the request or the answer."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.bids = _bid_path()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()

    def is_bid(self, request: httpx.Request) -> bool:
        return request.method == "POST" and request.url.path == self.bids

    def with_body(self, request: httpx.Request, body: Any) -> httpx.Request:
        """``request`` carrying ``body`` instead of its own."""
        content = json.dumps(body).encode()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        return httpx.Request(request.method, request.url, headers=headers, content=content)


def _client(name: str, mistake: str, cls: type[_Client]) -> Fault:
    return Fault(name, "producer", mistake, buyer_transport=cls)


class _KeyDropped(_Client):
    """The API key is set on one client but the bid and marketplace calls go through another."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for name in ("x-api-key", "authorization"):
            if name in request.headers:
                del request.headers[name]
        return self.inner.handle_request(request)


_attempts = itertools.count(1)


class _NewIdPerAttempt(_Client):
    """Each attempt of a bid submission is given a fresh externalBidId (minted where the
    request is built, inside the retry loop), so a retry is a new bid to the buyer."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.is_bid(request):
            body = json.loads(request.content)
            body["externalBidId"] = f"{body['externalBidId']}-{next(_attempts)}"
            request = self.with_body(request, body)
        return self.inner.handle_request(request)


class _RefusalTakenAsSuccess(_Client):
    """Any answer to a bid submission that is not a server error is read as the stored bid:
    a 409 or 422 refusal becomes a bid the producer shows as submitted."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not self.is_bid(request) or response.status_code not in (409, 422):
            return response
        response.read()
        bid = json.loads(request.content) | {"_id": new_object_id(), "version": 1}
        return httpx.Response(201, json={"bid": bid | {"status": "pending"}}, request=request)


class _FieldRenamed(_Client):
    """The bid is sent with today's member name, not the contract's (``bidderName`` as
    ``companyName``), which the contract's closed schema refuses."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.is_bid(request):
            body = json.loads(request.content)
            old, new = RENAMED
            if old in body:
                body[new] = body.pop(old)
            request = self.with_body(request, body)
        return self.inner.handle_request(request)


def _counter_answer_without_contract(app: FastAPI) -> None:
    """The answer to an accepted counter-offer leaves the contract out (the team counts on the
    buyer's webhook to bring it), although the bid reads won."""

    def rewrite(status: int, media_type: str, body: bytes) -> Answer | None:
        document = parsed(body)
        if status != 200 or not isinstance(document, dict) or "contract" not in document:
            return None
        kept = {key: value for key, value in document.items() if key != "contract"}
        return status, media_type, json.dumps(kept).encode()

    answer = operations(load_portal_spec("producer"))["respondToCounterOffer"]
    pattern = path_pattern(answer.path)
    app.add_middleware(OnPaths, pattern=pattern, rewrite=rewrite)


CLIENT_FAULTS = (
    _client(
        "api-key-dropped",
        "the calls to the buyer go out without the X-API-Key header",
        _KeyDropped,
    ),
    _client(
        "new-external-id-per-attempt",
        "each attempt of a bid submission carries a new externalBidId, so a retry is a new bid",
        _NewIdPerAttempt,
    ),
    _client(
        "refusal-taken-as-success",
        "a 409 or 422 answer to a bid submission is read as success: the bid shows as submitted",
        _RefusalTakenAsSuccess,
    ),
    _client(
        "bid-field-renamed",
        f"the bid is sent with {RENAMED[0]} renamed {RENAMED[1]}, which the spec refuses",
        _FieldRenamed,
    ),
    Fault(
        "counter-answer-without-contract",
        "producer",
        "accepting a counter-offer answers the won bid without the contract the buyer returned "
        "(the team counts on the webhook to bring it)",
        app=_counter_answer_without_contract,
    ),
)
