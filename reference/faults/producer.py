"""The producer portal's faults, each the mistake a producer team could make with its webhook
receivers (see ``__init__``)."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
from typing import Any

from fastapi import FastAPI
from lotflow.reference.faults import Fault
from lotflow.reference.faults.asgi import Answer, BodyInspector, parsed
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from lotflow.http import Handler, OperationRequest, Reply, SchemeAuthenticator
from lotflow.openapi import load_portal_spec
from lotflow.problems import PROBLEM_MEDIA_TYPE, Problem

__all__ = ["PRODUCER_FAULTS", "SLOW_SECONDS"]

RECEIVERS = ("receiveLotWebhook", "receiveBidWebhook", "receiveContractWebhook")
WEBHOOKS = "/api/webhooks/"
SLOW_SECONDS = 1.0
"""How long the slow receiver takes before it answers (verify's tests give it 0.5 s)."""


def _receivers_only(method: str, path: str) -> bool:
    return method == "POST" and path.startswith(WEBHOOKS)


# ---------------------------------------------------------------------------------- signatures


def _unsigned_accepted(
    authenticators: dict[str, SchemeAuthenticator],
) -> dict[str, SchemeAuthenticator]:
    """The receivers never verify the signature: whatever arrives is taken as the buyer's."""

    def anyone(request: Request, _raw: bytes) -> str:
        return request.headers.get("webhook-id", "")

    return authenticators | {"standardWebhooks": anyone}


# ---------------------------------------------------------------------------------- state


def _on_receivers(handlers: dict[str, Handler], change: Any) -> dict[str, Handler]:
    wrapped = dict(handlers)
    for name in RECEIVERS:
        wrapped[name] = change(handlers[name])
    return wrapped


def _replays_applied(handlers: dict[str, Handler]) -> dict[str, Handler]:
    """De-duplication keys on a per-attempt value (the webhook-timestamp next to the id), so
    a repeated webhook-id is applied again."""
    counter = itertools.count()

    def change(handler: Handler) -> Handler:
        def receive(request: OperationRequest) -> Reply | Any:
            unique = f"{request.principal}-{next(counter)}"
            return handler(dataclasses.replace(request, principal=unique))

        return receive

    return _on_receivers(handlers, change)


def _stale_applied(handlers: dict[str, Handler]) -> dict[str, Handler]:
    """The receiver stores its own receipt counter as the entity's version, not the buyer's,
    so an older event that arrives later replaces a newer one."""
    counter = itertools.count(1_000_000)

    def change(handler: Handler) -> Handler:
        def receive(request: OperationRequest) -> Reply | Any:
            body = request.body
            for entity in ("lot", "bid"):
                if isinstance(body, dict) and isinstance(body.get(entity), dict):
                    body = body | {entity: body[entity] | {"version": next(counter)}}
            return handler(dataclasses.replace(request, body=body))

        return receive

    return _on_receivers(handlers, change)


# ---------------------------------------------------------------------------------- answers


def _crash_on_bad_body(app: FastAPI) -> None:
    """The receiver reads ``body["event"]`` and the entity's ``_id`` before it validates, so a
    malformed payload crashes it: a bare 500."""

    def decide(_path: str, body: bytes) -> Answer | None:
        document = parsed(body)
        try:
            entity = next(k for k in ("lot", "bid", "contract") if k in document)
            document["event"].lower() + document[entity]["_id"]
        except (TypeError, KeyError, StopIteration, AttributeError):
            return 500, "text/plain", b"Internal Server Error"
        return None

    app.add_middleware(BodyInspector, matches=_receivers_only, decide=decide)


def _unknown_refused(app: FastAPI) -> None:
    """The receiver refuses every event it does not know with 400 (the sender then retries it
    for a day)."""
    known = set(load_portal_spec("buyer").get("webhooks", {}))

    def decide(_path: str, body: bytes) -> Answer | None:
        document = parsed(body)
        if not isinstance(document, dict):
            return None
        event = document.get("event")
        if isinstance(event, str) and event in known:  # any other value is not a known event
            return None
        problem = Problem(400, "Unknown event", code="unknown_event").to_dict()
        return 400, PROBLEM_MEDIA_TYPE, json.dumps(problem).encode()

    app.add_middleware(BodyInspector, matches=_receivers_only, decide=decide)


class _Slow:
    """Answers each delivery only after ``SLOW_SECONDS``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _receivers_only(scope["method"], scope["path"]):
            await asyncio.sleep(SLOW_SECONDS)
        await self.app(scope, receive, send)


def _slow_receiver(app: FastAPI) -> None:
    """The receiver syncs the whole marketplace from the buyer before it answers, so each
    delivery takes seconds (the sender times out and retries)."""
    app.add_middleware(_Slow)


PRODUCER_FAULTS = (
    Fault(
        "unsigned-webhooks-accepted",
        "producer",
        "the receivers never verify the webhook signature",
        authenticators=_unsigned_accepted,
    ),
    Fault(
        "replays-applied",
        "producer",
        "de-duplication keys on a per-attempt value: a repeated webhook-id is applied again",
        handlers=_replays_applied,
    ),
    Fault(
        "stale-versions-applied",
        "producer",
        "the receiver stores its own counter as the version: an older event replaces a newer one",
        handlers=_stale_applied,
    ),
    Fault(
        "crash-on-bad-body",
        "producer",
        "the receiver reads the payload before validating it: a malformed one is a bare 500",
        app=_crash_on_bad_body,
    ),
    Fault(
        "unknown-events-refused",
        "producer",
        "the receiver answers 400 to an event it does not know",
        app=_unknown_refused,
    ),
    Fault(
        "slow-receiver",
        "producer",
        f"the receiver syncs from the buyer before it answers ({SLOW_SECONDS:g} s a delivery)",
        app=_slow_receiver,
    ),
)
