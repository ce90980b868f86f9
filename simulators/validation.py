"""Check each message against the spec as it passes; every broken rule becomes a Finding.

:class:`CallChecker` checks HTTP calls of one portal's API (``buyer`` or ``producer`` spec):
the operation exists, parameters, the request's media type and body, and the answer's status,
media type (problem+json for errors) and body. :class:`WebhookChecker` checks a webhook as the
producer receives it: Standard Webhooks headers and signature (or the legacy bearer, a
deviation), media type, payload against its event's schema, the receiver path, and that the
webhook-id is the payload's eventId. Schemas come from the bundled spec through
``lotflow.openapi.validator_for``; nothing is restated here. Rule names are in
``findings.RULES``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lotflow.simulators.findings import RULES, Finding, Severity

from lotflow.clock import Clock
from lotflow.errors import ConfigError, SignatureError
from lotflow.openapi import (
    Operation,
    load_portal_spec,
    operations,
    path_pattern,
    resolve,
    validator_for,
)
from lotflow.openapi import webhooks as spec_webhooks
from lotflow.problems import PROBLEM_MEDIA_TYPE
from lotflow.signing import WebhookVerifier, verify_legacy_bearer

__all__ = ["CallChecker", "WebhookChecker", "media_type"]

_NO_BODY = object()


def media_type(headers: Mapping[str, str]) -> str:
    """The media type of a content-type header, lower-case, without parameters."""
    return headers.get("content-type", "").split(";")[0].strip().lower()


def _json(raw: bytes) -> Any:
    if not raw:
        return _NO_BODY
    try:
        return json.loads(raw)
    except ValueError:
        return _NO_BODY


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _errors_text(errors: Sequence[Any], limit: int = 3) -> str:
    shown = "; ".join(f"{e.field or '(body)'} {e.message}" for e in errors[:limit])
    more = len(errors) - limit
    return shown + (f" (and {more} more)" if more > 0 else "")


@dataclass(frozen=True)
class _Route:
    pattern: re.Pattern[str]
    literal: bool
    operation: Operation


class _Findings:
    """Collects the findings of one message (one sender, one subject)."""

    def __init__(self, subject: str, sender: str) -> None:
        self.subject, self.sender, self.items = subject, sender, list[Finding]()

    def add(
        self, rule: str, observed: str, expected: str = "", severity: Severity = "violation"
    ) -> None:
        self.items.append(
            Finding(
                rule,
                self.subject,
                expected or RULES[rule],
                observed,
                self.sender,
                severity=severity,
            )
        )


class CallChecker:
    """Checks calls to one portal's API against its spec."""

    def __init__(self, portal: str) -> None:
        self.spec = load_portal_spec(portal)  # type: ignore[arg-type]
        self.operations = operations(self.spec)
        routes = [_route(op) for op in self.operations.values()]
        self._routes = sorted(routes, key=lambda r: not r.literal)

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation ``method path`` calls, if the spec has one."""
        for route in self._routes:
            if route.operation.method == method.lower() and route.pattern.match(path):
                return route.operation
        return None

    def check_request(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]],
        headers: Mapping[str, str],
        body: bytes,
        sender: str,
    ) -> list[Finding]:
        """The findings of a request (an unknown operation is one finding)."""
        headers = _lower(headers)
        op = self.operation(method, path)
        if op is None:
            found = _Findings(f"{method.upper()} {path}", sender)
            found.add("request.operation", f"{method.upper()} {path}, which the spec does not have")
            return found.items
        found = _Findings(op.operation_id, sender)
        self._parameters(op, query, found)
        if op.request_schema is not None and (body or op.request_required):
            self._request_body(op, headers, body, found)
        return found.items

    def _parameters(
        self, op: Operation, query: Sequence[tuple[str, str]], found: _Findings
    ) -> None:
        declared = {p["name"]: p for p in op.parameters if p.get("in") == "query"}
        given = dict(query)
        for name in given.keys() - declared.keys():
            found.add(
                "request.parameters",
                f"query parameter {name!r}, which is not declared",
                f"only the declared query parameters: {', '.join(declared) or 'none'}",
            )
        for name, param in declared.items():
            if name not in given:
                if param.get("required"):
                    found.add(
                        "request.parameters",
                        f"no {name!r}",
                        f"the required query parameter {name!r}",
                    )
                continue
            schema = resolve(self.spec, param.get("schema") or {})
            value = _coerce(given[name], schema)
            errors = validator_for(self.spec, schema).errors(value)
            if errors:
                found.add(
                    "request.parameters",
                    f"{name}={given[name]!r}: {_errors_text(errors)}",
                    f"{name} matching {json.dumps(schema)[:120]}",
                )

    def _request_body(
        self, op: Operation, headers: Mapping[str, str], body: bytes, found: _Findings
    ) -> None:
        if media_type(headers) != "application/json":
            found.add("request.content-type", repr(headers.get("content-type", "(none)")))
        value = _json(body)
        if value is _NO_BODY:
            found.add("request.body", f"{len(body)} bytes that are not JSON", "a JSON body")
            return
        errors = validator_for(self.spec, op.request_schema or {}).errors(value)
        if errors:
            found.add("request.body", _errors_text(errors))

    def check_response(
        self, op: Operation, status: int, headers: Mapping[str, str], body: bytes, sender: str
    ) -> list[Finding]:
        """The findings of ``op``'s answer."""
        headers = _lower(headers)
        found = _Findings(op.operation_id, sender)
        declared = op.responses.get(str(status)) or op.responses.get("default")
        if declared is None:
            found.add("response.status", f"{status}", f"one of {', '.join(op.responses)}")
            if status >= 400:
                self._problem(headers, body, found)
            return found.items
        content = declared.get("content") or {}
        if not content:
            return found.items
        mime = media_type(headers)
        if status >= 400 and mime != PROBLEM_MEDIA_TYPE:
            found.add("response.problem", f"{status} as {mime or '(no content-type)'}")
        if mime not in content:
            found.add("response.content-type", mime or "(none)", f"one of {', '.join(content)}")
            return found.items
        schema = content[mime].get("schema")
        if schema is not None:
            self._body(schema, body, found, "response.body")
        return found.items

    def _problem(self, headers: Mapping[str, str], body: bytes, found: _Findings) -> None:
        if media_type(headers) != PROBLEM_MEDIA_TYPE:
            found.add(
                "response.problem", f"an error as {media_type(headers) or '(no content-type)'}"
            )

    def _body(self, schema: Any, body: bytes, found: _Findings, rule: str) -> None:
        value = _json(body)
        if value is _NO_BODY:
            found.add(rule, f"{len(body)} bytes that are not JSON", "a JSON body")
            return
        errors = validator_for(self.spec, schema).errors(value)
        if errors:
            found.add(rule, _errors_text(errors))


def _route(op: Operation) -> _Route:
    literal = "{" not in op.path
    return _Route(path_pattern(op.path), literal, op)


def _coerce(raw: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        return raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind == "array":
        return raw.split(",")
    return raw


class WebhookChecker:
    """Checks webhooks as the producer receives them, with the secrets the producer holds:
    ``lot_secrets`` (MARKETPLACE_WEBHOOK_SECRET) at the lot receiver, ``secrets`` elsewhere."""

    def __init__(
        self,
        secrets: Sequence[str],
        clock: Clock,
        *,
        legacy: bool = False,
        lot_secrets: Sequence[str] = (),
    ) -> None:
        self.spec = load_portal_spec("buyer")
        self.events = {name: item["post"] for name, item in spec_webhooks(self.spec).items()}
        self._lot_path = operations(load_portal_spec("producer"))["receiveLotWebhook"].path
        try:
            self._verifiers = {
                False: WebhookVerifier(list(secrets), clock),
                True: WebhookVerifier(list(lot_secrets or secrets), clock),
            }
        except (ConfigError, ValueError) as exc:
            raise ConfigError(f"The webhook secret cannot be used: {exc}") from exc
        self._secrets = {False: list(secrets), True: list(lot_secrets or secrets)}
        self.legacy = legacy

    def event_of(self, body: bytes) -> str:
        """The event name a body claims (``?`` when it has none)."""
        value = _json(body)
        return str(value.get("event", "?")) if isinstance(value, dict) else "?"

    def check(self, path: str, headers: Mapping[str, str], body: bytes) -> list[Finding]:
        """The findings of one webhook delivery to ``path``."""
        headers = _lower(headers)
        event = self.event_of(body)
        found = _Findings(event, "buyer")
        self._authentication(headers, body, path == self._lot_path, found)
        if media_type(headers) != "application/json":
            found.add("webhook.content-type", repr(headers.get("content-type", "(none)")))
        value = _json(body)
        if value is _NO_BODY:
            found.add("webhook.payload", f"{len(body)} bytes that are not JSON", "a JSON payload")
            return found.items
        operation = self.events.get(event)
        if operation is None:
            found.add("webhook.event", repr(event), f"one of {', '.join(self.events)}")
            return found.items
        self._payload(operation, value, found)
        self._route(operation, path, found)
        self._id(headers, value, found)
        return found.items

    def _authentication(
        self, headers: Mapping[str, str], body: bytes, lots: bool, found: _Findings
    ) -> None:
        if "authorization" in headers and "webhook-signature" not in headers:
            self._legacy(headers, self._secrets[lots], found)
            return
        missing = [
            n
            for n in ("webhook-id", "webhook-timestamp", "webhook-signature")
            if not headers.get(n)
        ]
        if missing:
            found.add("webhook.headers", f"no {', '.join(missing)}")
            return
        self._header_shapes(headers, found)
        try:
            self._verifiers[lots].verify(headers, body)
        except SignatureError as exc:
            found.add("webhook.signature", str(exc))

    def _legacy(self, headers: Mapping[str, str], secrets: list[str], found: _Findings) -> None:
        try:
            verify_legacy_bearer(headers, secrets)
        except SignatureError as exc:
            found.add("webhook.signature", f"a static bearer that does not match: {exc}")
            return
        found.add(
            "webhook.legacy-auth", "Authorization: Bearer <the shared secret>", severity="deviation"
        )

    def _header_shapes(self, headers: Mapping[str, str], found: _Findings) -> None:
        any_event = next(iter(self.events.values()))
        for param in any_event.get("parameters", []):
            param = resolve(self.spec, param)
            if param.get("in") != "header" or param["name"] not in headers:
                continue
            errors = validator_for(self.spec, param.get("schema") or {}).errors(
                headers[param["name"]]
            )
            if errors:
                found.add(
                    "webhook.headers",
                    f"{param['name']}: {headers[param['name']]!r} {_errors_text(errors)}",
                )

    def _payload(self, operation: Mapping[str, Any], value: Any, found: _Findings) -> None:
        body = resolve(self.spec, operation.get("requestBody") or {})
        schema = ((body.get("content") or {}).get("application/json") or {}).get("schema")
        errors = validator_for(self.spec, schema).errors(value) if schema else []
        if errors:
            found.add("webhook.payload", _errors_text(errors))

    def _route(self, operation: Mapping[str, Any], path: str, found: _Findings) -> None:
        wanted = operation.get("x-lotflow-delivery-path")
        if wanted and not path.endswith(wanted):
            found.add("webhook.path", path, f"delivery to {wanted}")

    def _id(self, headers: Mapping[str, str], value: Any, found: _Findings) -> None:
        header, event_id = (
            headers.get("webhook-id"),
            value.get("eventId") if isinstance(value, dict) else None,
        )
        if header and event_id and header != event_id:
            found.add("webhook.id", f"webhook-id {header!r} but eventId {event_id!r}")
