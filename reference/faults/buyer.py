"""The buyer portal's faults, each the mistake a buyer team could make (see ``__init__``)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from lotflow.reference.buyer.auth import PRODUCER
from lotflow.reference.faults import Fault
from lotflow.reference.faults.asgi import (
    Answer,
    BodyInspector,
    OnPaths,
    ResponseRewriter,
    parsed,
)
from starlette.requests import Request

from lotflow.errors import ConflictError, IllegalTransitionError
from lotflow.http import Handler, OperationRequest, Reply, SchemeAuthenticator
from lotflow.openapi import load_portal_spec, operations, path_pattern, validator_for
from lotflow.problems import PROBLEM_MEDIA_TYPE, Problem
from lotflow.workflow import Cause, StateMachine, Transition

__all__ = ["BUYER_FAULTS"]

PRODUCER_SCHEMES = ("producerApiKey", "producerBearer")
BID_POSTS = re.compile(r"^/api/bids(/[^/]+/accept-counter)?$")
EXTERNAL_BID = re.compile(r"^/api/bids/external/[^/]+$")
EXTERNAL_CONTRACT = re.compile(r"^/api/contracts/external/[^/]+$")
NOT_FOUND_PAGE = (
    b"<!DOCTYPE html><html><body><h1>404</h1><p>This page could not be found.</p></body></html>"
)


# ---------------------------------------------------------------------------------- auth


def _open_producer_api(
    authenticators: dict[str, SchemeAuthenticator],
) -> dict[str, SchemeAuthenticator]:
    """Every producer-facing route lets any caller in (the key check was left out)."""

    def anyone(_request: Request, _raw: bytes) -> object:
        return PRODUCER

    return authenticators | dict.fromkeys(PRODUCER_SCHEMES, anyone)


def _validation_first(app: FastAPI) -> None:
    """The producer's POSTs validate their body before they check the key (a 422 tells an
    unauthenticated caller how the API validates)."""
    spec = load_portal_spec("buyer")
    schemas = {
        op.path: op.request_schema
        for op in operations(spec).values()
        if op.method == "post" and op.request_schema is not None
    }

    def decide(path: str, body: bytes) -> Answer | None:
        template = next((t for t in schemas if path_pattern(t).match(path)), None)
        document = parsed(body)
        if template is None:
            return None
        if document is None:
            return _problem(400, "Invalid JSON", "invalid_json")
        if validator_for(spec, schemas[template]).errors(document):
            return _problem(422, "Validation failed", "validation_failed")
        return None

    app.add_middleware(BodyInspector, matches=_posts_on_bids, decide=decide)


def _posts_on_bids(method: str, path: str) -> bool:
    return method == "POST" and bool(BID_POSTS.match(path))


def _problem(status: int, title: str, code: str) -> Answer:
    body = Problem(status, title, code=code).to_dict()
    return status, PROBLEM_MEDIA_TYPE, json.dumps(body).encode()


# ---------------------------------------------------------------------------------- bad input


def _crash_on_bad_input(app: FastAPI) -> None:
    """``POST /api/bids`` computes the bid's total before validating the body, so a body
    without ``volume`` or ``pricing`` (or not JSON at all) crashes the route: a bare 500."""

    def decide(_path: str, body: bytes) -> Answer | None:
        document = parsed(body)
        try:
            document["volume"]["amount"] * document["pricing"]["pricePerUnit"]
        except (TypeError, KeyError):
            return 500, "text/plain", b"Internal Server Error"
        return None

    app.add_middleware(
        BodyInspector, matches=lambda m, p: m == "POST" and p == "/api/bids", decide=decide
    )


def _legacy_errors(app: FastAPI) -> None:
    """Errors are answered in today's dialect, ``{"error": "..."}``, not as problem+json."""

    def rewrite(status: int, media_type: str, body: bytes) -> Answer | None:
        if not media_type.startswith(PROBLEM_MEDIA_TYPE):
            return None
        problem = parsed(body) or {}
        message = problem.get("detail") or problem.get("title") or "Error"
        return status, "application/json", json.dumps({"error": message}).encode()

    app.add_middleware(ResponseRewriter, rewrite=rewrite)


def _missing_external_bid(app: FastAPI) -> None:
    """``GET /api/bids/external/{bidId}`` was never built: the framework's HTML 404 page."""

    def decide(_path: str, _body: bytes) -> Answer:
        return 404, "text/html; charset=utf-8", NOT_FOUND_PAGE

    app.add_middleware(
        BodyInspector,
        matches=lambda m, p: m == "GET" and bool(EXTERNAL_BID.match(p)),
        decide=decide,
    )


def _unwrapped_external_contract(app: FastAPI) -> None:
    """``GET /api/contracts/external/{id}`` answers the contract itself, not ``{contract}``
    (the route returns the database document as it is)."""

    def rewrite(status: int, media_type: str, body: bytes) -> Answer | None:
        document = parsed(body)
        if status != 200 or not isinstance(document, dict) or "contract" not in document:
            return None
        return status, media_type, json.dumps(document["contract"]).encode()

    app.add_middleware(OnPaths, pattern=EXTERNAL_CONTRACT, rewrite=rewrite)


# ---------------------------------------------------------------------------------- handlers


def _wrap(
    name: str, change: Callable[[OperationRequest], OperationRequest]
) -> Callable[[dict[str, Handler]], dict[str, Handler]]:
    """Handlers where ``name``'s request is changed by ``change`` before the real handler."""

    def wrap(handlers: dict[str, Handler]) -> dict[str, Handler]:
        real = handlers[name]

        async def changed(request: OperationRequest) -> Reply:
            return await _settled(real(change(request)))

        return handlers | {name: changed}

    return wrap


def _with_body(request: OperationRequest, body: dict[str, Any]) -> OperationRequest:
    return dataclasses.replace(request, body=body)


DROPPED_BID_FIELDS = ("message", "deliveryDate", "deliveryLocation", "bidderEmail")


def _drop_bid_fields(request: OperationRequest) -> OperationRequest:
    """The portal's bid schema lists only the members it uses; the rest are dropped silently."""
    kept = {k: v for k, v in request.body.items() if k not in DROPPED_BID_FIELDS}
    return _with_body(request, kept)


def _misread_answer(request: OperationRequest) -> OperationRequest:
    """The counter-offer answer is read from ``accepted`` (a typo for ``accept``): every answer
    declines."""
    return _with_body(request, request.body | {"accept": bool(request.body.get("accepted"))})


def _every_submission_new() -> Callable[[OperationRequest], OperationRequest]:
    """Every submission is stored as a new bid: externalBidId is not a key (the fault tags the
    stored id with a counter, since the reference's unique key would refuse a true duplicate)."""
    counter = itertools.count(1)

    def change(request: OperationRequest) -> OperationRequest:
        tagged = f"{request.body['externalBidId']}~{next(counter)}"
        return _with_body(request, request.body | {"externalBidId": tagged})

    return change


def _swallow_accept_conflict(handlers: dict[str, Handler]) -> dict[str, Handler]:
    """Accepting a bid that cannot be accepted (already accepted, say) answers 200 with the bid
    as it is, instead of 409: the client believes its accept went through."""
    decide, read = handlers["decideBid"], handlers["getBid"]

    async def forgiving(request: OperationRequest) -> Reply:
        try:
            return await _settled(decide(request))
        except ConflictError:
            if request.body.get("status") != "accepted":
                raise
            return await _settled(read(request))

    return handlers | {"decideBid": forgiving}


async def _settled(reply: Reply | Awaitable[Reply]) -> Reply:
    return await reply if isinstance(reply, Awaitable) else reply


# ---------------------------------------------------------------------------------- workflow


class _UnguardedMachine(StateMachine):
    """A machine that lets every operation through: the portal sets the status it is asked for
    without looking at the current one."""

    def transition(
        self, cause: str, current: str | None, target: str | None = None, *, entity_id: str = ""
    ) -> Transition:
        try:
            return super().transition(cause, current, target, entity_id=entity_id)
        except IllegalTransitionError:
            emits = next(
                (t.emits for t in self.transitions if t.cause.name == cause and t.target == target),
                (),
            )
            source = (current,) if current else ()
            moved = target or current or self.initial
            return Transition(source, moved, Cause("operation", cause), emits=emits)


def _no_state_guards(app: FastAPI) -> None:
    machines = app.state.buyer.machines
    for kind, machine in machines.items():
        fields = {f.name: getattr(machine, f.name) for f in dataclasses.fields(machine)}
        machines[kind] = _UnguardedMachine(**fields)


BUYER_FAULTS = (
    Fault(
        "open-producer-api",
        "buyer",
        "The producer-facing routes never check the key: any caller is let in.",
        authenticators=_open_producer_api,
    ),
    Fault(
        "validation-before-auth",
        "buyer",
        "POST /api/bids and accept-counter validate the body before the key: a bad body "
        "without a key gets 400/422 instead of 401.",
        app=_validation_first,
    ),
    Fault(
        "crash-on-bad-input",
        "buyer",
        "POST /api/bids computes the total before validating: a body without volume or "
        "pricing, or not JSON, is a bare 500.",
        app=_crash_on_bad_input,
    ),
    Fault(
        "legacy-errors",
        "buyer",
        'Errors are {"error": "..."} (application/json), not problem+json.',
        app=_legacy_errors,
    ),
    Fault(
        "missing-external-bid",
        "buyer",
        "GET /api/bids/external/{bidId} was never built: an HTML 404 page.",
        app=_missing_external_bid,
    ),
    Fault(
        "unwrapped-external-contract",
        "buyer",
        "GET /api/contracts/external/{contractId} answers the contract itself, not {contract}.",
        app=_unwrapped_external_contract,
    ),
    Fault(
        "bid-fields-dropped",
        "buyer",
        "POST /api/bids keeps only the members it uses: message, deliveryDate, "
        "deliveryLocation and bidderEmail are dropped silently.",
        handlers=_wrap("submitBid", _drop_bid_fields),
    ),
    Fault(
        "no-idempotency",
        "buyer",
        "POST /api/bids stores every submission as a new bid, even a repeat of the same "
        "(lotId, externalBidId).",
        handlers=lambda handlers: _wrap("submitBid", _every_submission_new())(handlers),
    ),
    Fault(
        "counter-answer-misread",
        "buyer",
        "accept-counter reads the answer from `accepted` instead of `accept`: every answer "
        "declines.",
        handlers=_wrap("acceptCounterOffer", _misread_answer),
    ),
    Fault(
        "accept-conflict-swallowed",
        "buyer",
        "Accepting a bid that cannot be accepted (already accepted) answers 200 with the bid "
        "instead of 409.",
        handlers=_swallow_accept_conflict,
    ),
    Fault(
        "no-state-guards",
        "buyer",
        "Operations set the status they are asked for without checking the current one "
        "(publish a sold lot, accept a rejected bid, complete a draft contract).",
        app=_no_state_guards,
    ),
)
