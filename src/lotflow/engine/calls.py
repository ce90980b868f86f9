"""Calling an operation on a party: the URL from the path template, the actor's credentials
from the operation's security schemes, and the exchange recorded with secrets redacted."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from lotflow.clock import Clock
from lotflow.engine.checks import StepAborted
from lotflow.engine.events import Exchange, Failure, HttpRequest, HttpResponse
from lotflow.engine.operations import OperationRef
from lotflow.engine.parties import Parties

SECRET_HEADERS = {"authorization", "x-api-key", "cookie", "set-cookie", "webhook-signature"}
REDACTED = "[redacted]"
BODY_LIMIT = 64_000
TEXT_EXCERPT = 4_000
TEMPLATE_PARAM = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Reply:
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

    def send(self, target: Target) -> Reply:
        """Call the operation; StepAborted when it cannot be sent or the party is unreachable."""
        ref = self._ref(target.operation)
        base = self.parties.buyer_url if ref.portal == "buyer" else self.parties.producer_url
        url = base.rstrip("/") + _fill(ref, target.operation, target.path)
        request = self.client.build_request(
            ref.method,
            url,
            params=dict(target.query) or None,
            json=target.body,
            headers=self._credentials(ref, target.alias),
        )
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
            ref.portal,
            target.operation,
            target.actor,
            target.purpose,
            _request_record(request),
            HttpResponse(
                response.status_code, _redacted(response.headers), _excerpt(body, response)
            ),
            elapsed,
        )
        return Reply(exchange, body)

    def _ref(self, operation: str) -> OperationRef:
        ref = self.operations.get(operation)
        if ref is None:
            message = (
                f"the runner has no operation {operation!r} in its operation index "
                "(is the spec up to date?)"
            )
            raise StepAborted(Failure("config", message, operation))
        return ref

    def _credentials(self, ref: OperationRef, alias: str) -> dict[str, str]:
        for scheme in ref.security:
            header = _SCHEMES.get(scheme)
            if header is not None:
                return header(self.parties, alias)
        return {}


def _buyer_operator(parties: Parties, alias: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {parties.buyer_token}"}


def _api_key(parties: Parties, alias: str) -> dict[str, str]:
    return {"X-API-Key": parties.buyer_api_key}


def _api_key_bearer(parties: Parties, alias: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {parties.buyer_api_key}"}


def _producer_operator(parties: Parties, alias: str) -> dict[str, str]:
    token = parties.producer_tokens.get(alias)
    if token is None:
        known = ", ".join(sorted(parties.producer_tokens)) or "none"
        message = f"no producer operator token for {alias!r} (tokens given for: {known})"
        raise StepAborted(Failure("config", message, alias, sorted(parties.producer_tokens)))
    return {"Authorization": f"Bearer {token}"}


_SCHEMES: dict[str, Callable[[Parties, str], dict[str, str]]] = {
    "operatorToken": _buyer_operator,
    "producerApiKey": _api_key,
    "producerBearer": _api_key_bearer,
    "producerOperatorToken": _producer_operator,
}
"""Security scheme name (as the spec names it) → the credential header the runner sends."""


def _fill(ref: OperationRef, operation: str, params: Mapping[str, Any]) -> str:
    needed = TEMPLATE_PARAM.findall(ref.path)
    missing = [name for name in needed if name not in params]
    extra = [name for name in params if name not in needed]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"needs {', '.join(missing)}")
        if extra:
            parts.append(f"has no {', '.join(extra)}")
        message = f"the path of {operation} ({ref.path}) {' and '.join(parts)}; check 'path:'"
        raise StepAborted(Failure("request", message, needed, sorted(params)))
    return TEMPLATE_PARAM.sub(lambda m: quote(_text(params[m.group(1)]), safe=""), ref.path)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


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
