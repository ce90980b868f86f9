"""The app builder: one route per operation of the bundled spec, plus ``/openapi.json``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from starlette.routing import compile_path

from lotflow.errors import SpecError
from lotflow.http.auth import SchemeAuthenticator
from lotflow.http.endpoint import Endpoint, Limits
from lotflow.http.errors import EXCEPTION_HANDLERS
from lotflow.http.headers import SafeAnswers
from lotflow.http.messages import Handler
from lotflow.http.routing import SPEC_PATH, OperationRoute, shadows, spec_route, specific_first
from lotflow.http.throttle import FailureThrottle
from lotflow.openapi import Operation, operations

__all__ = ["build_app"]


def build_app(
    spec: dict[str, Any],
    handlers: Mapping[str, Handler],
    *,
    authenticators: Mapping[str, SchemeAuthenticator],
    max_body_bytes: int = 1_000_000,
    validate_responses: bool = True,
    auth_throttle: FailureThrottle | None = None,
    title: str | None = None,
    lifespan: Any = None,
) -> FastAPI:
    """A FastAPI app serving ``spec``'s operations with ``handlers`` (see :mod:`lotflow.http`);
    ``authenticators`` maps a scheme to its authenticator, or to a ``ForOperation`` factory;
    ``auth_throttle`` counts failed authentications per client (429 past its limit). Every
    answer carries ``X-Content-Type-Options: nosniff`` and ``Cache-Control: no-store``.

    ``SpecError`` when handlers and operations do not match one to one, or when an operation
    names a security scheme without an authenticator.
    """
    ops = operations(spec)
    _check_bindings(spec, ops, handlers, authenticators)
    app = _bare_app(spec, title, lifespan)
    limits = Limits(max_body_bytes, validate_responses, auth_throttle)
    patterns = {op.path: compile_path(op.path)[0] for op in ops.values()}
    for op in sorted(ops.values(), key=specific_first):
        endpoint = Endpoint(spec, op, handlers[op.operation_id], authenticators, limits)
        shadowed_by = [patterns[other] for other in patterns if shadows(other, op.path)]
        app.router.routes.append(OperationRoute(op, endpoint, shadowed_by))
    if SPEC_PATH not in (spec.get("paths") or {}):
        app.router.routes.append(spec_route(spec))
    app.add_middleware(SafeAnswers)
    return app


def _bare_app(spec: dict[str, Any], title: str | None, lifespan: Any) -> FastAPI:
    """FastAPI with its own schema and docs routes off and every error answered as a problem."""
    info = spec.get("info") or {}
    return FastAPI(
        title=title or str(info.get("title", "lotflow portal")),
        version=str(info.get("version", "0")),
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        exception_handlers=EXCEPTION_HANDLERS,
    )


def _check_bindings(
    spec: dict[str, Any],
    ops: Mapping[str, Operation],
    handlers: Mapping[str, Handler],
    authenticators: Mapping[str, SchemeAuthenticator],
) -> None:
    problems = []
    if missing := sorted(set(ops) - set(handlers)):
        problems.append(f"operations without a handler: {', '.join(missing)}")
    if unknown := sorted(set(handlers) - set(ops)):
        problems.append(f"handlers for operations the spec does not have: {', '.join(unknown)}")
    schemes = {name for op in ops.values() for alt in op.security for name in alt}
    if no_auth := sorted(schemes - set(authenticators)):
        problems.append(f"security schemes without an authenticator: {', '.join(no_auth)}")
    declared = set((spec.get("components") or {}).get("securitySchemes") or {})
    if undeclared := sorted(set(authenticators) - declared):
        problems.append(f"authenticators for undeclared security schemes: {', '.join(undeclared)}")
    if problems:
        title = str((spec.get("info") or {}).get("title", "the spec"))
        raise SpecError(f"Cannot build the app for {title}: {'; '.join(problems)}.")
