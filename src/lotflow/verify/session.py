"""One verify run against one portal: its URL, the credentials per party, the budget, and the
calls checks make (each recorded as an :class:`~lotflow.verify.results.Exchange`).

Operations are called by operationId from the bundled spec. A producer-facing operation (tag
``producer-facing``) carries the producer's key in the place its first security alternative
names (the spec's ``X-API-Key``); every other operation carries the operator credentials the team
gave. Evidence never shows a configured secret: it appears as ``<producer key>`` or
``<operator credential>``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from lotflow.credentials import BuyerCredentials
from lotflow.errors import ConfigError, TransportError
from lotflow.openapi import Operation, load_portal_spec, operations, resolve
from lotflow.verify.results import Exchange
from lotflow.workflow import Workflow, load_workflow

__all__ = ["PRODUCER_TAG", "Answer", "Budget", "Party", "VerifySession"]

PRODUCER_TAG = "producer-facing"
BODY_LIMIT = 4000
_PATH_PARAM = re.compile(r"\{([^{}]+)\}")
_UNSET: Any = object()
_NOISE = frozenset(
    {"content-length", "accept", "accept-encoding", "connection", "host", "user-agent"}
)


class Party(StrEnum):
    """Whose credentials a call carries."""

    PRODUCER = "producer"
    OPERATOR = "operator"
    NOBODY = "nobody"


@dataclass(frozen=True)
class Budget:
    """How much verify may spend: Schemathesis examples per operation, a time budget for the
    fuzzing checks (seconds, ``None``: no limit), the seed of every random draw, and how many
    duplicates the concurrency checks send at once."""

    max_examples: int = 25
    time_budget: float | None = None
    seed: int = 0
    concurrency: int = 6
    answer_within: float = 5.0  # seconds a webhook receiver may take to answer one delivery
    delivery_deadline: float = 30.0  # seconds the buyer's webhooks (and retries) may take
    settle: float = 3.0  # seconds verify keeps listening for webhooks that should not come
    sender_timeout: float = 10.0  # the buyer's timeout per webhook attempt (the spec's 10 s)


@dataclass(frozen=True)
class Answer:
    """A response as a check reads it, with the exchange that produced it."""

    status: int
    headers: Mapping[str, str]
    text: str
    exchange: Exchange

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body as JSON, or ``None`` when it is not JSON."""
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def member(self, name: str) -> Any:
        """Member ``name`` of a JSON object body; ``None`` for any other body."""
        body = self.json()
        return body.get(name) if isinstance(body, dict) else None

    def object(self, name: str) -> dict[str, Any]:
        """Member ``name`` when it is an object, else ``{}``."""
        found = self.member(name)
        return found if isinstance(found, dict) else {}

    def objects(self, name: str) -> list[dict[str, Any]]:
        """The objects in member ``name`` when it is a list, else ``[]``."""
        found = self.member(name)
        return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


@dataclass
class VerifySession:
    """The portal under test and how to reach it; ``open()`` gives it an HTTP client."""

    base_url: str
    credentials: BuyerCredentials = field(default_factory=BuyerCredentials)
    state_url: str | None = None
    legacy: bool = False
    budget: Budget = field(default_factory=Budget)
    transport: httpx.AsyncBaseTransport | None = None
    timeout: float = 10.0
    spec: dict[str, Any] = field(default_factory=lambda: load_portal_spec("buyer"))
    workflow: Workflow = field(default_factory=load_workflow)
    webhook_secrets: tuple[str, ...] = ()  # the secret(s) webhooks are signed with
    lot_secrets: tuple[str, ...] = ()  # the lot receiver's, when they differ
    webhooks: Any = None  # the webhook listener of a buyer run (lotflow.verify.listener)
    buyer: Any = None  # the simulated buyer of a producer run (lotflow.verify.simulated)
    _client: httpx.AsyncClient | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.operations: dict[str, Operation] = operations(self.spec)

    # ------------------------------------------------------------------ what the run can do

    @property
    def has_producer_key(self) -> bool:
        return bool(self.credentials.api_key)

    @property
    def has_operator(self) -> bool:
        return bool(self.credentials.operator)

    @property
    def can_set_up(self) -> bool:
        """Whether verify can set up the buyer's entities (operator API or state URL)."""
        return self.has_operator or self.state_url is not None

    def secrets_for(self, receiver: str) -> tuple[str, ...]:
        """The secrets a delivery to ``receiver`` is signed with."""
        if receiver == "receiveLotWebhook" and self.lot_secrets:
            return self.lot_secrets
        return self.webhook_secrets

    def producer_facing(self) -> list[Operation]:
        """The operations a producer portal calls, in document order."""
        return [op for op in self.operations.values() if PRODUCER_TAG in op.tags]

    def key_header(self, operation: Operation) -> str:
        """The header the producer key goes in for ``operation`` (its apiKey scheme's)."""
        schemes = self.spec.get("components", {}).get("securitySchemes", {})
        for alternative in operation.security:
            for name in alternative:
                scheme = resolve(self.spec, schemes.get(name, {}))
                if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
                    return str(scheme["name"])
        return "X-API-Key"

    def allows_bearer_key(self, operation: Operation) -> bool:
        """Whether ``operation`` also takes the producer key as ``Authorization: Bearer``."""
        schemes = self.spec.get("components", {}).get("securitySchemes", {})
        return any(
            resolve(self.spec, schemes.get(name, {})).get("scheme", "").lower() == "bearer"
            for alternative in operation.security
            for name in alternative
        )

    # ------------------------------------------------------------------ calls

    @asynccontextmanager
    async def open(self) -> AsyncIterator[VerifySession]:
        """An HTTP client for the run's calls, closed at the end."""
        limits = httpx.Limits(max_connections=max(10, self.budget.concurrency * 2))
        async with httpx.AsyncClient(
            base_url=self.base_url, transport=self.transport, timeout=self.timeout, limits=limits
        ) as client:
            self._client = client
            try:
                yield self
            finally:
                self._client = None

    async def preflight(self) -> None:
        """Make sure the portal answers HTTP at all (a ``TransportError`` otherwise)."""
        plain = (op for op in self.operations.values() if op.method == "get" and "{" not in op.path)
        await self.send("GET", next(plain).path, {})

    def credentials_for(self, party: Party, operation: Operation) -> dict[str, str]:
        """The headers ``party`` sends with ``operation``."""
        if party is Party.PRODUCER:
            sent = self.credentials.producer.as_headers()
            if self.credentials.api_key:
                sent[self.key_header(operation)] = self.credentials.api_key
            return sent
        if party is Party.OPERATOR:
            return self.credentials.operator.as_headers()
        return {}

    def party_of(self, operation: Operation) -> Party:
        return Party.PRODUCER if PRODUCER_TAG in operation.tags else Party.OPERATOR

    async def call(
        self,
        operation_id: str,
        *,
        path: Mapping[str, str] | None = None,
        body: Any = _UNSET,
        party: Party | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Answer:
        """Call ``operation_id`` as ``party`` (by default the one the operation is for)."""
        operation = self.operations[operation_id]
        sent = self.credentials_for(party or self.party_of(operation), operation)
        sent.update(headers or {})
        if body is not _UNSET:
            content = json.dumps(body).encode()
        if content is not None:
            sent.setdefault("Content-Type", "application/json")
        url = _fill(operation.path, path or {}) + (f"?{urlencode(query)}" if query else "")
        return await self.send(operation.method.upper(), url, sent, content)

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], content: bytes | None = None
    ) -> Answer:
        """Send one request and record it; a portal that cannot be reached is a TransportError."""
        if self._client is None:
            raise RuntimeError("VerifySession.open() first")
        try:
            response = await self._client.request(method, url, headers=headers, content=content)
        except httpx.TransportError as exc:
            target = url if "://" in url else self.base_url + url
            raise TransportError(
                f"Cannot reach {target} ({type(exc).__name__}: {exc or 'no answer'}); is it "
                "running and reachable from here?"
            ) from exc
        return Answer(
            response.status_code, response.headers, response.text, self._exchange(response)
        )

    async def gather(self, *calls: Any) -> list[Answer]:
        """Run ``calls`` (awaitables of :meth:`call`) at the same time."""
        return list(await asyncio.gather(*calls))

    def _exchange(self, response: httpx.Response) -> Exchange:
        request = response.request
        return Exchange(
            method=request.method,
            url=str(request.url),
            request_headers=self.redact(request.headers),
            request_body=_short(request.content.decode("utf-8", "replace")) or None,
            status=response.status_code,
            response_headers=dict(response.headers),
            response_body=_short(response.text),
        )

    def redact(self, headers: Mapping[str, str]) -> dict[str, str]:
        """``headers`` with every configured secret replaced by its name."""
        secrets = {value: "<operator credential>" for value in self._operator_values()}
        if self.credentials.api_key:
            secrets[self.credentials.api_key] = "<producer key>"
        shown = {}
        for name, value in headers.items():
            for secret, label in secrets.items():
                value = value.replace(secret, label)
            if name.lower() in _NOISE:
                continue
            shown[name] = value
        return shown

    def _operator_values(self) -> list[str]:
        operator = self.credentials.operator
        return [v for v in [*operator.headers.values(), *operator.cookies.values()] if len(v) >= 6]


def _fill(template: str, values: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ConfigError(f"Path {template} needs {name!r}.")
        return quote(str(values[name]), safe="")

    return _PATH_PARAM.sub(value, template)


def _short(text: str) -> str:
    return text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + f"… ({len(text)} characters)"
