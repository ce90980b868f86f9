"""Routes of spec operations: a literal path before a templated one, as OpenAPI requires."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from lotflow.http.messages import JSON_MEDIA_TYPE
from lotflow.openapi import Operation

if TYPE_CHECKING:
    from fastapi import FastAPI

    from lotflow.http.endpoint import Endpoint

__all__ = ["SPEC_PATH", "OperationRoute", "operation_route", "routes_of", "spec_route"]

SPEC_PATH = "/openapi.json"


class OperationRoute(Route):
    """The route of one spec operation; ``operation`` is its entry in the spec and ``endpoint``
    what serves it (with its counters).

    OpenAPI matches the path before the method, and a concrete path before a templated one: a
    request for ``/lots/external`` belongs to that path even when only ``/lots/{lotId}`` has the
    method asked for (so it is a 405, not a call of the templated operation). ``shadowed_by``
    holds the patterns of the concrete paths that take such requests away from this route.
    """

    def __init__(
        self,
        operation: Operation,
        endpoint: Endpoint,
        shadowed_by: Sequence[re.Pattern[str]] = (),
    ) -> None:
        method = operation.method.upper()
        handle: Callable[[Request], Awaitable[Response]] = endpoint.handle
        super().__init__(operation.path, handle, methods=[method], name=operation.operation_id)
        self.operation = operation
        self.operation_endpoint = endpoint
        self.shadowed_by = list(shadowed_by)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Starlette's match, except for paths a more concrete spec path matches."""
        match, child = super().matches(scope)
        if match is not Match.NONE and self.shadowed_by:
            path = _route_path(scope)
            if any(pattern.match(path) for pattern in self.shadowed_by):
                return Match.NONE, {}
        return match, child


def operation_route(app: FastAPI, operation_id: str) -> OperationRoute:
    """The route of ``operation_id`` in an app ``build_app`` made (``KeyError`` if none)."""
    for route in app.router.routes:
        if isinstance(route, OperationRoute) and route.operation.operation_id == operation_id:
            return route
    raise KeyError(operation_id)


def routes_of(app: FastAPI) -> set[tuple[str, str]]:
    """``(METHOD, path)`` of every route but ``/openapi.json`` (Starlette's implicit HEAD of a
    GET route left out), to compare with the spec's operations."""
    found = set()
    for route in app.router.routes:
        if isinstance(route, Route) and route.path != SPEC_PATH and route.methods:
            implicit = {"HEAD"} if "GET" in route.methods else set()
            found |= {(method, route.path) for method in route.methods - implicit}
    return found


def specific_first(op: Operation) -> list[int]:
    """Sort key: a literal segment before a templated one (``/lots/external`` before
    ``/lots/{lotId}``), as OpenAPI requires; otherwise document order (the sort is stable)."""
    return [1 if "{" in segment else 0 for segment in op.path.split("/")]


def _route_path(scope: Scope) -> str:
    """The request path below the app's mount point (``root_path``)."""
    path, root = str(scope["path"]), str(scope.get("root_path", ""))
    return path[len(root) :] if root and path.startswith(root) else path


def shadows(concrete: str, templated: str) -> bool:
    """Whether every URL of ``templated`` that ``concrete`` could match belongs to ``concrete``:
    same length, and ``concrete`` has a literal wherever the two differ."""
    ours, theirs = concrete.split("/"), templated.split("/")
    if concrete == templated or len(ours) != len(theirs):
        return False
    pairs = [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
    return all("{" in b and "{" not in a for a, b in pairs)


def spec_route(spec: dict[str, Any]) -> Route:
    """``GET /openapi.json``: the bundled document itself."""
    document = json.dumps(spec, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    async def serve_spec(_request: Request) -> Response:
        return Response(document, media_type=JSON_MEDIA_TYPE)

    return Route(SPEC_PATH, serve_spec, methods=["GET"], include_in_schema=False)
