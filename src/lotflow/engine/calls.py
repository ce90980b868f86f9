"""Calling an operation on a party: the call built from the spec (:mod:`lotflow.speccall`), the
actor's credential placed as the operation's security scheme says, and the exchange recorded
with secrets redacted."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from lotflow.clock import Clock
from lotflow.engine.checks import StepAborted
from lotflow.engine.events import Exchange, Failure, HttpRequest, HttpResponse
from lotflow.engine.operations import OperationRef
from lotflow.engine.parties import Parties
from lotflow.openapi import Credential
from lotflow.speccall import PathParameterError, SpecCall, build_call

__all__ = ["CallResult", "Caller", "Target"]

SECRET_HEADERS = {"authorization", "x-api-key", "cookie", "set-cookie", "webhook-signature"}
REDACTED = "[redacted]"
BODY_LIMIT = 64_000
TEXT_EXCERPT = 4_000


@dataclass(frozen=True)
class CallResult:
    """What a call returned: the exchange for reports and the whole parsed body for checks."""

    exchange: Exchange
    body: Any


@dataclass(frozen=True)
class Target:
    """One call, resolved: operation, who makes it, and its substituted parameters."""

    operation: str
    actor: str
    alias: str
    path: Mapping[str, Any]
    query: Mapping[str, Any]
    body: Any
    purpose: str = "call"


class Caller:
    """Sends resolved calls to the parties and records each exchange."""

    def __init__(
        self,
        parties: Parties,
        operations: Mapping[str, OperationRef],
        client: httpx.Client,
        clock: Clock,
    ) -> None:
        self.parties = parties
        self.operations = operations
        self.client = client
        self.clock = clock

    def send(self, target: Target) -> CallResult:
        """Call the operation; StepAborted when it cannot be sent or the party is unreachable."""
        ref = self._ref(target.operation)
        base = self.parties.buyer_url if ref.portal == "buyer" else self.parties.producer_url
        request = self._call(ref, base, target).request(self.client)
        started = self.clock.monotonic()
        try:
            response = self.client.send(request)
        except httpx.HTTPError as exc:
            raise StepAborted(
                _unreachable(ref.portal, base, exc, _request_record(request))
            ) from None
        elapsed = round((self.clock.monotonic() - started) * 1000, 1)
        body = _parsed(response)
        exchange = Exchange(
            portal=ref.portal,
            operation=target.operation,
            actor=target.actor,
            purpose=target.purpose,
            request=_request_record(request),
            response=HttpResponse(
                response.status_code, _redacted(response.headers), _excerpt(body, response)
            ),
            duration_ms=elapsed,
        )
        return CallResult(exchange, body)

    def _call(self, ref: OperationRef, base: str, target: Target) -> SpecCall:
        credential = self._credential(ref, target.alias)
        try:
            return build_call(
                ref.operation,
                base,
                path=target.path,
                query={**target.query, **credential.query},
                body=target.body,
                headers=credential.headers,
            )
        except PathParameterError as exc:
            message = f"the path of {target.operation} ({ref.path}) {exc.reason}; check 'path:'"
            raise StepAborted(
                Failure("request", message, exc.needed, sorted(target.path))
            ) from None

    def _ref(self, operation: str) -> OperationRef:
        ref = self.operations.get(operation)
        if ref is None:
            message = (
                f"the runner has no operation {operation!r} in its operation index "
                "(is the spec up to date?)"
            )
            raise StepAborted(Failure("config", message, operation))
        return ref

    def _credential(self, ref: OperationRef, alias: str) -> Credential:
        """The first of the operation's schemes for which the runner holds a secret, placed
        where the spec's scheme says (header, query, cookie, bearer)."""
        for scheme in ref.schemes:
            secret = _SECRETS.get(scheme.name)
            placed = scheme.present(secret(self.parties, alias)) if secret else None
            if placed is not None:
                return placed
        return Credential()


def _buyer_operator(parties: Parties, alias: str) -> str:
    return parties.buyer_token


def _api_key(parties: Parties, alias: str) -> str:
    return parties.buyer_api_key


def _producer_operator(parties: Parties, alias: str) -> str:
    token = parties.producer_tokens.get(alias)
    if token is None:
        known = ", ".join(sorted(parties.producer_tokens)) or "none"
        message = f"no producer operator token for {alias!r} (tokens given for: {known})"
        raise StepAborted(Failure("config", message, alias, sorted(parties.producer_tokens)))
    return token


_SECRETS: dict[str, Callable[[Parties, str], str]] = {
    "operatorToken": _buyer_operator,
    "producerApiKey": _api_key,
    "producerBearer": _api_key,
    "producerOperatorToken": _producer_operator,
}
"""Security scheme name → which of the parties' secrets the runner presents for it. Where the
secret goes (``X-API-Key``, ``Authorization: Bearer``) is the spec's scheme's to say."""


def _unreachable(portal: str, base: str, exc: httpx.HTTPError, request: HttpRequest) -> Failure:
    message = (
        f"could not reach the {portal} portal at {base}: "
        f"{type(exc).__name__}: {exc or 'no detail'}. "
        "Is it running, and is the URL right?"
    )
    return Failure("transport", message, base, f"{type(exc).__name__}: {exc}", request)


def _redacted(headers: httpx.Headers) -> dict[str, str]:
    return {k: REDACTED if k.lower() in SECRET_HEADERS else v for k, v in headers.items()}


def _request_record(request: httpx.Request) -> HttpRequest:
    content = request.content
    body: Any = None
    if content:
        try:
            body = json.loads(content)
        except ValueError:
            body = content[:TEXT_EXCERPT].decode("utf-8", "replace")
    return HttpRequest(request.method, str(request.url), _redacted(request.headers), body)


def _parsed(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _excerpt(body: Any, response: httpx.Response) -> Any:
    size = len(response.content)
    if isinstance(body, str) and len(body) > TEXT_EXCERPT:
        return body[:TEXT_EXCERPT] + f"… ({size} bytes in all)"
    if size > BODY_LIMIT:
        return response.text[:TEXT_EXCERPT] + f"… ({size} bytes in all)"
    return body
