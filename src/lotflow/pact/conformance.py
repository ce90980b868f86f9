"""Every interaction of a pact checked against the OpenAPI documents, so pacts and spec cannot
drift apart.

HTTP interactions: the request names a producer-facing operation of the buyer spec (method and
path template),
sends only the query parameters the operation declares, and its body satisfies the operation's
request schema; the response status is one the operation documents and its body satisfies that
response's schema. Message interactions: the body's ``event`` is a webhook of the spec, the body
satisfies the webhook's payload schema, and the metadata satisfies its signature header schemas.
Values are the pact's examples (what the consumer test used); a finding names the interaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lotflow.openapi import (
    Operation,
    load_portal_spec,
    operations,
    path_pattern,
    resolve,
    validator_for,
    webhooks,
)
from lotflow.pact.names import read_pact

__all__ = ["CALLER_TAG", "ConformanceFinding", "check_pact"]

CALLER_TAG = "producer-facing"  # the buyer spec's tag of what a producer portal may call


@dataclass(frozen=True)
class ConformanceFinding:
    """One way an interaction disagrees with the spec."""

    pact: str
    interaction: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.pact}: {self.interaction!r}: {self.where}: {self.message}"


def check_pact(path: Path, spec: dict[str, Any] | None = None) -> list[ConformanceFinding]:
    """The findings of every interaction in the pact file at ``path`` (empty when it agrees)."""
    spec = spec or load_portal_spec("buyer")
    data = read_pact(path)
    found: list[ConformanceFinding] = []
    for interaction in data.get("interactions", []):
        check = _message if interaction.get("type", "").endswith("Messages") else _http
        for where, message in check(spec, interaction):
            found.append(ConformanceFinding(path.name, interaction["description"], where, message))
    return found


Findings = list[tuple[str, str]]


def _http(spec: dict[str, Any], interaction: dict[str, Any]) -> Findings:
    request, response = interaction["request"], interaction["response"]
    op = _operation_for(spec, request["method"], request["path"])
    if op is None:
        return [("request", f"no operation of the spec is {request['method']} {request['path']}")]
    if CALLER_TAG not in op.tags:
        return [("request", f"{op.operation_id} is not a {CALLER_TAG} operation")]
    found = _query(op, request.get("query") or {})
    if "body" in request:
        found += _schema(spec, op.request_schema, _content(request), "request body")
    status = str(response["status"])
    documented = op.responses.get(status)
    if documented is None:
        return [*found, ("response", f"{op.operation_id} does not document status {status}")]
    media = (documented.get("content") or {}).values()
    schema = next((m.get("schema") for m in media if m.get("schema")), None)
    if "body" in response:
        found += _schema(spec, schema, _content(response), f"response {status} body")
    return found


def _operation_for(spec: dict[str, Any], method: str, path: str) -> Operation | None:
    candidates = [op for op in operations(spec).values() if op.method == method.lower()]
    literal = [op for op in candidates if op.path == path]
    if literal:
        return literal[0]
    for op in candidates:
        if path_pattern(op.path).match(path):
            return op
    return None


def _query(op: Operation, query: dict[str, Any]) -> Findings:
    declared = {p["name"] for p in op.parameters if p.get("in") == "query"}
    undeclared = sorted(set(query) - declared)
    return [("request query", f"{op.operation_id} declares no parameter {n!r}") for n in undeclared]


def _content(part: dict[str, Any]) -> Any:
    body = part["body"]
    return body.get("content") if isinstance(body, dict) and "content" in body else body


def _schema(spec: dict[str, Any], schema: Any, value: Any, where: str) -> Findings:
    if schema is None:
        return [(where, "the spec declares no schema here")]
    errors = validator_for(spec, schema).errors(value)
    return [(where, f"{e.field or '/'} {e.message}") for e in errors]


def _message(spec: dict[str, Any], interaction: dict[str, Any]) -> Findings:
    body = (interaction.get("contents") or {}).get("content")
    event = body.get("event") if isinstance(body, dict) else None
    hooks = webhooks(spec)
    if event not in hooks:
        return [("message body", f"event {event!r} is not a webhook of the spec")]
    post = resolve(spec, hooks[event])["post"]
    media = resolve(spec, post["requestBody"])["content"]["application/json"]
    found = _schema(spec, media["schema"], body, "message body")
    metadata = interaction.get("metadata") or {}
    for parameter in post.get("parameters", []):
        parameter = resolve(spec, parameter)
        if parameter.get("in") != "header":
            continue
        name = parameter["name"]
        if name not in metadata:
            found.append(("message metadata", f"{name} is missing"))
            continue
        found += _schema(spec, parameter["schema"], str(metadata[name]), f"metadata {name}")
    return found
