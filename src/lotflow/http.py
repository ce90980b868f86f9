"""Build a FastAPI app from a spec: one route per operation, validated against the spec.

A portal hands :func:`build_app` its bundled spec and a handler per operationId. Per request, in
order: the body is read up to the size limit (413); the operation's security alternatives are
tried (401); path, query and body are coerced and validated against the operation's schemas
(404 for a malformed id in the path, 400/415/422 otherwise); the handler runs and returns a
:class:`Reply`, which is validated against the documented response (a mismatch is a server bug:
500 ``response_contract_violation``). Every error is problem+json. ``GET /openapi.json`` serves
the bundled spec itself, so what a portal serves is what it implements.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lotflow.errors import SpecError
from lotflow.openapi import Operation, operations, validator_for
from lotflow.problems import FieldError, Problem

log = logging.getLogger("lotflow.http")

Authenticator = Callable[[Request, bytes], Any]
SPEC_ROUTE = "/openapi.json"


@dataclass
class OperationRequest:
    """What a handler receives: the validated request of one operation."""

    operation_id: str
    path_params: dict[str, Any]
    query: dict[str, Any]
    body: Any
    raw_body: bytes
    headers: Mapping[str, str]
    principal: Any
    request: Request


@dataclass
class Reply:
    """What a handler returns. ``raw_json`` carries pre-encoded JSON for hot paths."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] | None = None
    raw_json: bytes | None = field(default=None, repr=False)


Handler = Callable[[OperationRequest], Reply | Awaitable[Reply]]


def build_app(
    spec: dict[str, Any],
    handlers: Mapping[str, Handler],
    *,
    authenticators: Mapping[str, Authenticator],
    max_body_bytes: int = 1_000_000,
    validate_responses: bool = True,
    title: str | None = None,
    lifespan: Any = None,
) -> FastAPI:
    """A FastAPI app serving exactly the operations of ``spec`` through ``handlers``."""
    ops = operations(spec)
    _check_handlers(ops, handlers, spec, authenticators)
    app = FastAPI(
        title=title or spec.get("info", {}).get("title", "lotflow"),
        openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan,
    )
    spec_bytes = json.dumps(spec, separators=(",", ":")).encode()
    app.router.routes.append(Route(SPEC_ROUTE, _serve_bytes(spec_bytes), methods=["GET"]))
    for op in sorted(ops.values(), key=_route_order):
        endpoint = _Endpoint(spec, op, handlers[op.operation_id], authenticators, max_body_bytes, validate_responses)
        app.router.routes.append(Route(op.path, endpoint.handle, methods=[op.method.upper()]))
    app.add_exception_handler(HTTPException, _http_exception)
    app.add_exception_handler(Exception, _unhandled)
    return app


def routes_of(app: FastAPI) -> set[tuple[str, str]]:
    """The (METHOD, path) pairs an app serves, without the spec route."""
    return {
        (method, route.path)
        for route in app.router.routes
        if isinstance(route, Route) and route.path != SPEC_ROUTE
        for method in (route.methods or ()) - {"HEAD"}
    }


def _check_handlers(
    ops: Mapping[str, Operation],
    handlers: Mapping[str, Handler],
    spec: dict[str, Any],
    authenticators: Mapping[str, Authenticator],
) -> None:
    missing, unknown = sorted(set(ops) - set(handlers)), sorted(set(handlers) - set(ops))
    schemes = set(spec.get("components", {}).get("securitySchemes", {}))
    unbacked = sorted(schemes - set(authenticators))
    if missing or unknown or unbacked:
        raise SpecError(
            "Handlers and spec differ: "
            f"operations without a handler: {missing or 'none'}; "
            f"handlers for unknown operations: {unknown or 'none'}; "
            f"security schemes without an authenticator: {unbacked or 'none'}."
        )


def _route_order(op: Operation) -> list[int]:
    """Literal path segments before templated ones, so /lots/external wins over /lots/{id}."""
    return [1 if "{" in segment else 0 for segment in op.path.split("/")]


def _serve_bytes(content: bytes) -> Callable[[Request], Awaitable[Response]]:
    async def serve(_request: Request) -> Response:
        return Response(content, media_type="application/json")

    return serve


class _Endpoint:
    """The request pipeline of one operation."""

    def __init__(
        self,
        spec: dict[str, Any],
        op: Operation,
        handler: Handler,
        authenticators: Mapping[str, Authenticator],
        max_body_bytes: int,
        validate_responses: bool,
    ) -> None:
        self.spec, self.op, self.handler = spec, op, handler
        self.authenticators = authenticators
        self.max_body_bytes = max_body_bytes
        self.validate_responses = validate_responses
        self.is_async = inspect.iscoroutinefunction(handler)
        self.params = [p for p in op.parameters if p.get("in") in ("path", "query")]
        self.body_validator = validator_for(spec, op.request_schema) if op.request_schema else None

    async def handle(self, request: Request) -> Response:
        try:
            raw = await _read_body(request, self.max_body_bytes)
            principal = self._authenticate(request, raw)
            path_params, query = self._parameters(request)
            body = self._body(request, raw)
            req = OperationRequest(self.op.operation_id, path_params, query, body, raw, request.headers, principal, request)
            reply = await self.handler(req) if self.is_async else await run_in_threadpool(self.handler, req)  # type: ignore[misc]
            return self._respond(reply, request)
        except Problem as problem:
            return problem.to_response(request.url.path)

    def _authenticate(self, request: Request, raw: bytes) -> Any:
        if not self.op.security:
            return None
        for alternative in self.op.security:
            principals = [self.authenticators[name](request, raw) for name in alternative]
            if all(p is not None for p in principals):
                return principals[0] if principals else None
        raise Problem.unauthorized(f"Missing or invalid credentials; {self.op.operation_id} accepts {_describe_security(self.spec, self.op)}.")

    def _parameters(self, request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
        path: dict[str, Any] = {}
        query: dict[str, Any] = {}
        path_errors: list[FieldError] = []
        query_errors: list[FieldError] = []
        for param in self.params:
            name, where, schema = param["name"], param["in"], param.get("schema", {})
            if where == "path":
                raw_value: Any = request.path_params.get(name)
            elif _is_array(self.spec, schema):
                raw_value = request.query_params.getlist(name) or None
            else:
                raw_value = request.query_params.get(name)
            if raw_value is None:
                if param.get("required"):
                    query_errors.append(FieldError(name, "is required"))
                continue
            value, problems = self._coerce(name, raw_value, schema)
            (path_errors if where == "path" else query_errors).extend(problems)
            (path if where == "path" else query)[name] = value
        if path_errors:
            what = ", ".join(f"{e.field} {e.message}" for e in path_errors)
            raise Problem(404, "Not found", f"No such resource: {what}.", "not_found", errors=path_errors)
        if query_errors:
            raise Problem.bad_request("Invalid query parameters.", "invalid_parameter", query_errors)
        return path, query

    def _coerce(self, name: str, raw: Any, schema: dict[str, Any]) -> tuple[Any, list[FieldError]]:
        kind = _schema_type(self.spec, schema)
        try:
            value = [_scalar(v, _item_type(self.spec, schema)) for v in raw] if kind == "array" else _scalar(raw, kind)
        except ValueError:
            return raw, [FieldError(name, f"{raw!r} is not a valid {kind}")]
        errors = validator_for(self.spec, schema).errors(value)
        return value, [FieldError(name + e.field, e.message) for e in errors]

    def _body(self, request: Request, raw: bytes) -> Any:
        if self.body_validator is None:
            return None
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if not raw:
            if self.op.request_required:
                raise Problem.validation([FieldError("/", "a JSON request body is required")])
            return None
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise Problem(415, "Unsupported media type", f"Expected application/json, got {content_type or 'no content type'}.", "unsupported_media_type")
        body = parse_json(raw)
        errors = self.body_validator.errors(body)
        if errors:
            raise Problem.validation(errors)
        return body

    def _respond(self, reply: Reply, request: Request) -> Response:
        content = reply.raw_json if reply.raw_json is not None else (encode_json(reply.body) if reply.body is not None else b"")
        if self.validate_responses:
            self._check_response(reply, content)
        media = "application/json" if content else None
        return Response(content, reply.status, headers=reply.headers, media_type=media)

    def _check_response(self, reply: Reply, content: bytes) -> None:
        documented = self.op.responses.get(str(reply.status)) or self.op.responses.get("default")
        if documented is None:
            raise _contract_violation(self.op, reply.status, [FieldError("/", f"status {reply.status} is not documented")])
        documented = _resolve(self.spec, documented)
        schema = (documented.get("content") or {}).get("application/json", {}).get("schema")
        if schema is None or not content:
            return
        errors = validator_for(self.spec, schema).errors(json.loads(content))
        if errors:
            raise _contract_violation(self.op, reply.status, errors)


def _contract_violation(op: Operation, status: int, errors: list[FieldError]) -> Problem:
    log.error("%s answered %s outside its contract: %s", op.operation_id, status, errors)
    return Problem(500, "Response outside the contract", f"{op.operation_id} produced a {status} response that does not match the spec.", "response_contract_violation", errors=errors)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> Problem:
    return Problem(413, "Payload too large", f"Request bodies are limited to {limit} bytes.", "payload_too_large")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes) -> Any:
    """Strict JSON: no NaN/Infinity, no out-of-range numbers; a 400 problem otherwise."""
    try:
        return json.loads(raw, parse_float=_finite, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise Problem.bad_request(f"The request body is not valid JSON: {exc}", "invalid_json") from None


def encode_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while isinstance(node.get("$ref"), str):
        target: Any = spec
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def _schema_type(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    resolved = _resolve(spec, schema)
    kind = resolved.get("type", "string")
    return kind if isinstance(kind, str) else next((k for k in kind if k != "null"), "string")


def _is_array(spec: dict[str, Any], schema: dict[str, Any]) -> bool:
    return _schema_type(spec, schema) == "array"


def _item_type(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    return _schema_type(spec, _resolve(spec, schema).get("items", {}))


def _scalar(raw: str, kind: str) -> Any:
    if kind == "integer":
        return int(raw)
    if kind == "number":
        return _finite(raw)
    if kind == "boolean":
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise ValueError(raw)
    return raw


def _describe_security(spec: dict[str, Any], op: Operation) -> str:
    schemes = spec.get("components", {}).get("securitySchemes", {})
    described = []
    for alternative in op.security:
        for name in alternative:
            scheme = schemes.get(name, {})
            if scheme.get("type") == "apiKey":
                described.append(f"the {scheme.get('name')} header")
            else:
                described.append(f"Authorization: Bearer ({name})")
    return " or ".join(described) or "no credentials"


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    titles = {404: ("Not found", "not_found"), 405: ("Method not allowed", "method_not_allowed")}
    title, code = titles.get(exc.status_code, ("HTTP error", "http_error"))
    detail = f"{request.method} {request.url.path}: {exc.detail}"
    return Problem(exc.status_code, title, detail, code).to_response(request.url.path, dict(exc.headers or {}))


async def _unhandled(request: Request, exc: Exception) -> Response:
    log.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    problem = Problem(500, "Internal server error", "The server failed to handle this request; the error was logged.", "internal_error")
    return problem.to_response(request.url.path)
