"""The operation index: every operation of a bundled document, with its path-level parameters
merged and its ``$ref``'d parts resolved."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lotflow.openapi.refs import resolve

__all__ = ["HTTP_METHODS", "Operation", "operations", "path_pattern", "webhooks"]

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@dataclass(frozen=True)
class Operation:
    """One operation of a document; path-level parameters are merged into ``parameters``,
    ``$ref``'d parameters, request bodies and responses are resolved (schemas stay refs).
    ``request_media_types`` are the media types its request body may have (lower case)."""

    operation_id: str
    method: str
    path: str
    summary: str
    parameters: list[dict[str, Any]]
    request_schema: dict[str, Any] | None
    request_required: bool
    request_media_types: tuple[str, ...]
    responses: dict[str, dict[str, Any]]
    security: list[dict[str, Any]]
    tags: list[str]
    extensions: dict[str, Any]


def path_pattern(template: str) -> re.Pattern[str]:
    """The paths a template such as ``/api/bids/{bidId}/accept-counter`` stands for (each
    parameter one path segment), anchored at both ends."""
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")


def operations(spec: dict[str, Any]) -> dict[str, Operation]:
    """Every operation under ``paths`` with an operationId, keyed by it, in document order."""
    found: dict[str, Operation] = {}
    for path, item in (spec.get("paths") or {}).items():
        item = resolve(spec, item)
        for method in HTTP_METHODS:
            raw = item.get(method)
            if isinstance(raw, dict) and raw.get("operationId"):
                found[raw["operationId"]] = _operation(spec, path, method, item, raw)
    return found


def _operation(
    spec: dict[str, Any], path: str, method: str, item: dict[str, Any], raw: dict[str, Any]
) -> Operation:
    body = resolve(spec, raw.get("requestBody") or {})
    content = body.get("content") or {}
    json_body = content.get("application/json") or {}
    return Operation(
        operation_id=raw["operationId"],
        method=method,
        path=path,
        summary=raw.get("summary", ""),
        parameters=_merged_parameters(spec, item, raw),
        request_schema=json_body.get("schema") if json_body else None,
        request_required=bool(body.get("required")),
        request_media_types=tuple(str(media).lower() for media in content),
        responses={str(s): resolve(spec, r) for s, r in (raw.get("responses") or {}).items()},
        security=list(raw["security"] if "security" in raw else spec.get("security") or []),
        tags=list(raw.get("tags") or []),
        extensions={k: v for k, v in raw.items() if k.startswith("x-")},
    )


def _merged_parameters(
    spec: dict[str, Any], item: dict[str, Any], raw: dict[str, Any]
) -> list[dict[str, Any]]:
    """Path-item parameters overridden by operation parameters of the same (in, name)."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for parameter in [*item.get("parameters", []), *raw.get("parameters", [])]:
        parameter = resolve(spec, parameter)
        merged[(parameter.get("in", ""), parameter.get("name", ""))] = parameter
    return list(merged.values())


def webhooks(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The document's ``webhooks`` section: event name → path item."""
    return dict(spec.get("webhooks") or {})
