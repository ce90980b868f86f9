"""The app's exception handlers: everything that escapes a route is answered as a problem
(unknown paths 404, wrong methods 405, domain refusals, and unhandled errors as a logged 500
with no traceback on the wire)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from lotflow.errors import DomainError
from lotflow.problems import Problem

__all__ = ["EXCEPTION_HANDLERS", "internal_error"]

log = logging.getLogger("lotflow.http")


def internal_error() -> Problem:
    """The answer to a failure of the server's own (its details go to the log only)."""
    return Problem.internal("The server failed while handling this request; the error was logged.")


async def _http_error(request: Request, exc: HTTPException) -> Response:
    path = request.url.path
    if exc.status_code == 404:
        return Problem(404, "Not found", f"No route matches {path}.", "not_found").to_response(path)
    if exc.status_code == 405:
        allowed = _allowed_methods(request)
        detail = f"{request.method} is not allowed on {path}; allowed: {allowed}."
        problem = Problem(405, "Method not allowed", detail, "method_not_allowed")
        return problem.to_response(path, {"Allow": allowed})
    problem = Problem(exc.status_code, "HTTP error", exc.detail, f"http_{exc.status_code}")
    return problem.to_response(path, exc.headers)


def _allowed_methods(request: Request) -> str:
    """Every method of every route matching the path (Starlette names only the first route's)."""
    routes = [r for r in request.app.router.routes if isinstance(r, Route) and r.methods]
    matching = [r for r in routes if r.matches(request.scope)[0] is not Match.NONE]
    return ", ".join(sorted({method for route in matching for method in route.methods or ()}))


async def _problem(request: Request, exc: Problem) -> Response:
    return exc.to_response(request.url.path)


async def _refused(request: Request, exc: DomainError) -> Response:
    return Problem.from_error(exc).to_response(request.url.path)


async def _unhandled(request: Request, exc: Exception) -> Response:
    log.error("Unhandled error on %s %s", request.method, request.url, exc_info=exc)
    return internal_error().to_response(request.url.path)


EXCEPTION_HANDLERS: dict[
    int | type[Exception], Callable[[Request, Any], Coroutine[Any, Any, Response]]
] = {
    HTTPException: _http_error,
    Problem: _problem,
    DomainError: _refused,
    Exception: _unhandled,
}
