"""Live probes of running portals (``--buyer URL`` / ``--producer URL``): nothing private is read
and no state changes.

- reachable, and every operation of the portal's spec routed: an ``OPTIONS`` request per
  operation, which no handler runs; a 404 means the router has no such path, an ``Allow`` header
  without the method means the path exists but not the operation; any other answer (401, 405,
  204, ...) means the operation exists;
- the producer's receivers accept a delivery signed with the secrets of the producer's own file:
  the event is the spec's example of an unknown event, which receivers must acknowledge and ignore;
- the buyer accepts the producer's API key on a read the spec guards with that key (the list of
  published lots, which every producer may read).
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from lotflow.clock import Clock, SystemClock
from lotflow.doctor.findings import Finding
from lotflow.doctor.pair import Pair, Portal, lots_receiver, names, receivers
from lotflow.errors import ConfigError
from lotflow.ids import new_event_id
from lotflow.openapi import Operation, load_portal_spec, operations
from lotflow.signing import legacy_bearer_headers, signature_headers, split_secrets

__all__ = ["probe_pair"]

_PLACEHOLDER_ID = "0" * 24  # fills path parameters: OPTIONS reaches the router, no handler
_UNKNOWN_EVENT = "UnknownEventPayload"  # the spec's schema of events receivers must ignore


@dataclass
class _Prober:
    pair: Pair
    client: httpx.Client
    clock: Clock

    def run(self) -> Iterator[Finding]:
        if self.pair.buyer_url and (yield from self._routes("buyer", self.pair.buyer_url)):
            yield from self._api_key(self.pair.buyer_url.rstrip("/"))
        if self.pair.producer_url and (yield from self._routes("producer", self.pair.producer_url)):
            yield from self._deliveries(self.pair.producer_url.rstrip("/"))

    def _routes(self, portal: Portal, url: str) -> Generator[Finding, None, bool]:
        """The operation finding; returns whether the portal answered at all."""
        base, missing = url.rstrip("/"), []
        for operation in operations(load_portal_spec(portal)).values():
            path = re.sub(r"\{[^}]+\}", _PLACEHOLDER_ID, operation.path)
            try:
                answer = self.client.options(base + path)
            except httpx.TransportError as exc:
                yield _unreachable(portal, base, exc)
                return False
            if not _routed(answer, operation):
                missing.append(f"{operation.operation_id} ({operation.method.upper()} {path})")
        if missing:
            yield _missing_operations(portal, base, missing)
        return True

    def _deliveries(self, base: str) -> Iterator[Finding]:
        n = names()
        for path in receivers():
            lots = path == lots_receiver() and self.pair.producer.get(n.producer_lots)
            name = n.producer_lots if lots else n.producer_bids
            yield from self._deliver(base.rstrip("/") + path, name)

    def _deliver(self, url: str, name: str) -> Iterator[Finding]:
        body, msg_id = _probe_event(self.clock)
        try:
            headers = self._webhook_headers(name, msg_id, body)
        except ConfigError as exc:
            yield _skipped(f"No signed delivery to {url}: {exc}", name)
            return
        answer = self.client.post(url, content=body, headers=headers)
        if not answer.is_success:
            yield _refused_delivery(url, name, answer)

    def _webhook_headers(self, name: str, msg_id: str, body: bytes) -> dict[str, str]:
        secrets = split_secrets(self.pair.producer.get(name))
        base = {"content-type": "application/json", "webhook-id": msg_id}
        if (self.pair.producer.get(names().producer_auth) or "standard") == "legacy-bearer":
            return base | legacy_bearer_headers(secrets[0])
        return base | signature_headers(secrets, msg_id, body, self.clock)

    def _api_key(self, base: str) -> Iterator[Finding]:
        n = names()
        key = self.pair.producer.get(n.producer_key)
        read = _guarded_read()
        if not key or read is None:
            yield _skipped(
                f"No API key probe of {base}: {n.producer_key} is unset.", n.producer_key
            )
            return
        operation, header, query = read
        answer = self.client.get(
            base.rstrip("/") + operation.path, params=query, headers={header: key}
        )
        if not answer.is_success:
            yield _refused_key(base, operation, answer)


def probe_pair(
    pair: Pair,
    *,
    transport: httpx.BaseTransport | None = None,
    clock: Clock | None = None,
    timeout: float = 5.0,
) -> list[Finding]:
    """Every live finding about the portals whose URLs ``pair`` holds."""
    with httpx.Client(transport=transport, timeout=timeout, follow_redirects=False) as client:
        return list(_Prober(pair, client, clock or SystemClock()).run())


def _routed(answer: httpx.Response, operation: Operation) -> bool:
    if answer.status_code == 404:
        return False
    allow = answer.headers.get("allow")
    if allow is None:
        return True
    allowed = {method.strip().upper() for method in allow.split(",")}
    return operation.method.upper() in allowed


def _probe_event(clock: Clock) -> tuple[bytes, str]:
    """The spec's example of an unknown event, with a fresh id and time."""
    schema = load_portal_spec("producer")["components"]["schemas"][_UNKNOWN_EVENT]
    msg_id = new_event_id()
    event = {**schema["examples"][0], "eventId": msg_id, "timestamp": clock.now().isoformat()}
    return json.dumps(event).encode(), msg_id


def _guarded_read() -> tuple[Operation, str, dict[str, Any]] | None:
    """The first GET of the buyer's spec without path parameters guarded by a header API key,
    with the header's name and the query defaults."""
    spec = load_portal_spec("buyer")
    schemes = spec["components"]["securitySchemes"]
    for operation in operations(spec).values():
        keyed = [
            schemes[name]["name"]
            for requirement in operation.security
            for name in requirement
            if schemes[name].get("type") == "apiKey" and schemes[name].get("in") == "header"
        ]
        if operation.method == "get" and keyed and "{" not in operation.path:
            query = {
                p["name"]: p["schema"]["default"]
                for p in operation.parameters
                if p.get("in") == "query" and "default" in p.get("schema", {})
            }
            return operation, keyed[0], query
    return None


def _url_names(portal: Portal) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The variables (buyer's, producer's) that hold the probed portal's URL."""
    n = names()
    if portal == "buyer":
        return (), (n.producer_buyer_url,)
    return (n.buyer_webhook_url,), ()


def _unreachable(portal: Portal, base: str, exc: httpx.TransportError) -> Finding:
    buyer, producer = _url_names(portal)
    return Finding(
        "portal-unreachable",
        f"The {portal} at {base} does not answer: {type(exc).__name__}: {exc}.",
        f"Nothing reaches the {portal}: no live probe could run.",
        f"Start the {portal}, or pass the URL it really listens on with --{portal}.",
        buyer=buyer,
        producer=producer,
    )


def _missing_operations(portal: Portal, base: str, missing: list[str]) -> Finding:
    buyer, producer = _url_names(portal)
    return Finding(
        "operation-missing",
        f"The {portal} at {base} does not route {len(missing)} operation(s) of the spec: "
        + "; ".join(missing)
        + ".",
        "The other portal (or its operators) gets 404 where the contract promises an operation.",
        "Implement the operations, or check that the URL is the portal's base.",
        buyer=buyer,
        producer=producer,
    )


def _excerpt(answer: httpx.Response) -> str:
    return answer.text[:200].replace("\n", " ")


def _refused_delivery(url: str, name: str, answer: httpx.Response) -> Finding:
    return Finding(
        "delivery-refused",
        f"POST {url}, signed with {name} from the producer's file, got {answer.status_code}: "
        f"{_excerpt(answer)}",
        "The running producer does not verify with the secret its file holds (another file, an "
        "old process, another variable), so the static checks above do not describe it.",
        "Restart the producer with this file, or compare the secret it really reads.",
        buyer=(names().buyer_signing,),
        producer=(name,),
    )


def _refused_key(base: str, operation: Operation, answer: httpx.Response) -> Finding:
    n = names()
    return Finding(
        "api-key-refused",
        f"GET {base}{operation.path} with the producer's {n.producer_key} got "
        f"{answer.status_code}: {_excerpt(answer)}",
        "The running buyer refuses the key the producer sends: every producer call gets 401.",
        f"Restart the buyer with its file, or set the producer's {n.producer_key} to the key "
        f"the buyer really reads ({n.buyer_key}).",
        buyer=(n.buyer_key,),
        producer=(n.producer_key,),
    )


def _skipped(text: str, name: str) -> Finding:
    return Finding(
        "probe-skipped",
        text,
        "That part of the live configuration is unchecked.",
        f"Set {name} in the producer's file and run doctor again.",
        producer=(name,),
    )
