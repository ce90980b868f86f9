"""The spec-bound app builder: a FastAPI app whose routes are the operations of a bundled spec.

A portal hands :func:`build_app` its bundled document and one handler per operationId. Each route
does, in this order:

1. read the raw body up to ``max_body_bytes`` (413 ``payload_too_large``);
2. authenticate: the operation's ``security`` (or the document's) lists alternatives; the first
   alternative whose every scheme's authenticator returns a principal wins (401 ``unauthorized``
   otherwise);
3. coerce path, query and header parameters by their schema type and validate them (a bad path
   parameter names no resource: 404 ``not_found``; a bad query or header parameter: 400
   ``invalid_parameter``), filling in schema defaults for absent query parameters;
4. for a JSON request body: 415 for another media type, 400 ``invalid_json`` when it does not
   parse, 422 ``validation_failed`` when it breaks the schema (or is required and absent);
5. call the handler with an :class:`OperationRequest`; it returns a :class:`Reply` or raises a
   :class:`~lotflow.problems.Problem`, or a :class:`~lotflow.errors.DomainError` that is
   answered as its problem (``Problem.from_error``). Sync handlers run in the threadpool.
6. with ``validate_responses``, check the reply against the documented response; a mismatch is a
   server bug, answered 500 ``response_contract_violation`` and logged.

Every error is ``application/problem+json``: unknown paths (404), wrong methods (405) and
unhandled exceptions (500, logged, no traceback on the wire) included. ``GET /openapi.json``
serves the bundled document itself; FastAPI's own schema and docs routes are off.

Authenticators are sync callables ``(request, raw_body) -> principal | None`` run on the event
loop, so they must not block (compare keys, check HMACs). ``None`` means "these credentials are
absent or wrong". An authenticator may raise a ``Problem`` or a ``SignatureError`` to explain a
rejection; a ``MissingSignatureError`` counts as "absent" (other alternatives are still tried),
and when no alternative succeeds the first explanation is what the client sees.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Match, Route, compile_path
from starlette.types import Scope

from lotflow.errors import (
    DomainError,
    InvalidSignatureError,
    MissingSignatureError,
    SignatureError,
    SpecError,
    StaleTimestampError,
)
from lotflow.openapi import Operation, Validator, operations, resolve, validator_for
from lotflow.problems import FieldError, Problem
from lotflow.threads import in_thread

__all__ = [
    "SPEC_PATH",
    "Authenticator",
    "Handler",
    "OperationRequest",
    "OperationRoute",
    "Reply",
    "build_app",
    "routes_of",
]

log = logging.getLogger("lotflow.http")

SPEC_PATH = "/openapi.json"
JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class OperationRequest:
    """A request that passed size, authentication and validation checks, as a handler sees it."""

    operation_id: str
    path_params: dict[str, Any]
    query: dict[str, Any]
    body: Any
    raw_body: bytes
    headers: Mapping[str, str]
    principal: Any
    request: Request


@dataclass(frozen=True)
class Reply:
    """A handler's answer. ``body`` is JSON-encoded once (compact); ``raw_json`` passes
    already-encoded JSON bytes instead (hot paths that splice stored documents)."""

    status: int
    body: Any = None
    headers: dict[str, str] | None = None
    raw_json: bytes | None = None


Handler = Callable[[OperationRequest], "Reply | Awaitable[Reply]"]
Authenticator = Callable[[Request, bytes], Any]


class OperationRoute(Route):
    """The route of one spec operation; ``operation`` is its entry in the spec.

    OpenAPI matches the path before the method, and a concrete path before a templated one: a
    request for ``/lots/external`` belongs to that path even when only ``/lots/{lotId}`` has the
    method asked for (so it is a 405, not a call of the templated operation). ``shadowed_by``
    holds the patterns of the concrete paths that take such requests away from this route.
    """

    def __init__(
        self,
        operation: Operation,
        endpoint: Callable[[Request], Awaitable[Response]],
        shadowed_by: Sequence[re.Pattern[str]] = (),
    ) -> None:
        method = operation.method.upper()
        super().__init__(operation.path, endpoint, methods=[method], name=operation.operation_id)
        self.operation = operation
        self.shadowed_by = list(shadowed_by)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Starlette's match, except for paths a more concrete spec path matches."""
        match, child = super().matches(scope)
        if match is not Match.NONE and self.shadowed_by:
            path = _route_path(scope)
            if any(pattern.match(path) for pattern in self.shadowed_by):
                return Match.NONE, {}
        return match, child


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
    """A FastAPI app serving ``spec``'s operations with ``handlers`` (see the module docstring).

    Raises ``SpecError`` when handlers and operations do not match one to one, or when an
    operation names a security scheme without an authenticator.
    """
    ops = operations(spec)
    _check_bindings(spec, ops, handlers, authenticators)
    info = spec.get("info") or {}
    app = FastAPI(
        title=title or str(info.get("title", "lotflow portal")),
        version=str(info.get("version", "0")),
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        exception_handlers=_EXCEPTION_HANDLERS,
    )
    limits = _Limits(max_body_bytes, validate_responses)
    patterns = {op.path: compile_path(op.path)[0] for op in ops.values()}
    for op in sorted(ops.values(), key=_specific_first):
        endpoint = _Endpoint(spec, op, handlers[op.operation_id], authenticators, limits)
        shadowed_by = [patterns[other] for other in patterns if _shadows(other, op.path)]
        app.router.routes.append(OperationRoute(op, endpoint.handle, shadowed_by))
    if SPEC_PATH not in (spec.get("paths") or {}):
        app.router.routes.append(_spec_route(spec))
    return app


def routes_of(app: FastAPI) -> set[tuple[str, str]]:
    """``(METHOD, path)`` of every route but ``/openapi.json`` (Starlette's implicit HEAD of a
    GET route left out), to compare with the spec's operations."""
    found = set()
    for route in app.router.routes:
        if isinstance(route, Route) and route.path != SPEC_PATH and route.methods:
            implicit = {"HEAD"} if "GET" in route.methods else set()
            found |= {(method, route.path) for method in route.methods - implicit}
    return found


def _check_bindings(
    spec: dict[str, Any],
    ops: Mapping[str, Operation],
    handlers: Mapping[str, Handler],
    authenticators: Mapping[str, Authenticator],
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
        raise SpecError(f"Cannot build the app for {_title(spec)}: {'; '.join(problems)}.")


def _title(spec: dict[str, Any]) -> str:
    return str((spec.get("info") or {}).get("title", "the spec"))


def _specific_first(op: Operation) -> list[int]:
    """Sort key: a literal segment before a templated one (``/lots/external`` before
    ``/lots/{lotId}``), as OpenAPI requires; otherwise document order (the sort is stable)."""
    return [1 if "{" in segment else 0 for segment in op.path.split("/")]


def _route_path(scope: Scope) -> str:
    """The request path below the app's mount point (``root_path``)."""
    path, root = str(scope["path"]), str(scope.get("root_path", ""))
    return path[len(root) :] if root and path.startswith(root) else path


def _shadows(concrete: str, templated: str) -> bool:
    """Whether every URL of ``templated`` that ``concrete`` could match belongs to ``concrete``:
    same length, and ``concrete`` has a literal wherever the two differ."""
    ours, theirs = concrete.split("/"), templated.split("/")
    if concrete == templated or len(ours) != len(theirs):
        return False
    pairs = [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
    return all("{" in b and "{" not in a for a, b in pairs)


def _spec_route(spec: dict[str, Any]) -> Route:
    document = json.dumps(spec, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    async def serve_spec(_request: Request) -> Response:
        return Response(document, media_type=JSON_MEDIA_TYPE)

    return Route(SPEC_PATH, serve_spec, methods=["GET"], include_in_schema=False)


@dataclass(frozen=True)
class _Limits:
    max_body_bytes: int
    validate_responses: bool


class _Endpoint:
    """Everything one operation's route needs, compiled once at build time."""

    def __init__(
        self,
        spec: dict[str, Any],
        op: Operation,
        handler: Handler,
        authenticators: Mapping[str, Authenticator],
        limits: _Limits,
    ) -> None:
        self.op = op
        self.handler = handler
        self.is_async = _is_async(handler)
        self.limits = limits
        self.auth = _Auth(spec, op, authenticators)
        self.params = [_Param.compile(spec, p) for p in op.parameters if p.get("in") in _READERS]
        # Parsed path and query values by raw input; not for operations reading headers.
        self.parsed: OrderedDict[tuple[Any, ...], tuple[dict[str, Any], dict[str, Any]]] | None = (
            None if any(p.location == "header" for p in self.params) else OrderedDict()
        )
        schema = op.request_schema
        self.body_validator = validator_for(spec, schema) if schema is not None else None
        self.responses = _ResponseCheck(spec, op) if limits.validate_responses else None

    async def handle(self, request: Request) -> Response:
        try:
            prepared = await self._prepare(request)
            reply = await self._call(prepared)
            return self._render(reply)
        except Problem as problem:
            return problem.to_response(request.url.path)
        except DomainError as refused:  # the domain's refusals become problems here, and only here
            return Problem.from_error(refused).to_response(request.url.path)
        except Exception:  # the boundary: the traceback goes to the log, the client gets a problem
            log.exception("%s (%s %s) failed", self.op.operation_id, request.method, request.url)
            return _internal_error().to_response(request.url.path)

    async def _prepare(self, request: Request) -> OperationRequest:
        raw = await _read_body(request, self.limits.max_body_bytes)
        principal = self.auth.principal(request, raw)
        path_params, query = self._parameters(request)
        return OperationRequest(
            operation_id=self.op.operation_id,
            path_params=path_params,
            query=query,
            body=self._body(request, raw),
            raw_body=raw,
            headers=request.headers,
            principal=principal,
            request=request,
        )

    PARSED = 256  # inputs remembered per operation

    def _parameters(self, request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
        """Path and query values, parsed and validated once per distinct raw input (clients
        repeat the same queries); each request gets its own copies."""
        memo = self.parsed
        if memo is None:
            return _parameters(self.params, request)
        key = (request.scope.get("query_string", b""), *request.path_params.items())
        found = memo.get(key)
        if found is None:
            found = memo[key] = _parameters(self.params, request)  # raises for bad input
            if len(memo) > self.PARSED:
                memo.popitem(last=False)
        else:
            memo.move_to_end(key)
        path_params, query = found
        return dict(path_params), {k: _copied(v) for k, v in query.items()}

    def _body(self, request: Request, raw: bytes) -> Any:
        if self.body_validator is None:
            return None
        if not raw:
            if self.op.request_required:
                raise Problem.validation([FieldError("", "a JSON request body is required")])
            return None
        _check_media_type(request.headers.get("content-type"))
        body = _parse_json(raw)
        if errors := self.body_validator.errors(body):
            raise Problem.validation(errors)
        return body

    async def _call(self, prepared: OperationRequest) -> Reply:
        if self.is_async:
            reply = await self.handler(prepared)  # type: ignore[misc]
        else:
            reply = await in_thread(self.handler, prepared)
        if not isinstance(reply, Reply):
            raise TypeError(f"handler of {self.op.operation_id} returned {reply!r}, not a Reply")
        return reply

    def _render(self, reply: Reply) -> Response:
        content = reply.raw_json if reply.raw_json is not None else _encode(reply.body)
        if self.responses is not None:
            self.responses.check(reply, content)
        media_type = JSON_MEDIA_TYPE if content else None
        return Response(content, reply.status, headers=reply.headers, media_type=media_type)


def _copied(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def _is_async(handler: Any) -> bool:
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004 - looking for an async __call__
    )


# ---------------------------------------------------------------------------------- body


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and not declared.isdigit():
        raise Problem.bad_request(f"Content-Length {declared!r} is not a byte count.")
    if declared is not None and int(declared) > limit:
        raise Problem.payload_too_large(limit)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Problem.payload_too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect as exc:
        raise Problem.bad_request("The client disconnected while sending the body.") from exc
    return b"".join(chunks)


def _check_media_type(content_type: str | None) -> None:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != JSON_MEDIA_TYPE and not media.endswith("+json"):
        raise Problem.unsupported_media_type(content_type, JSON_MEDIA_TYPE)


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _parse_json(raw: bytes) -> Any:
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
        if _SURROGATE_ESCAPE.search(raw):  # rare: only then pay for the full check
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise Problem.bad_request(
            "The body is not JSON text: it escapes a lone UTF-16 surrogate (\\ud800-\\udfff), "
            "which is not a character.",
            "invalid_json",
        ) from None
    except json.JSONDecodeError as exc:
        where = f" at line {exc.lineno}, column {exc.colno}"
        raise Problem.bad_request(
            f"The body is not JSON: {exc.msg}{where}.", "invalid_json"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise Problem.bad_request(f"The body is not JSON: {exc}.", "invalid_json") from exc
    else:
        return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _encode(body: Any) -> bytes:
    if body is None:
        return b""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


# ---------------------------------------------------------------------------------- auth

_DENIED = object()


class _Auth:
    """The operation's security alternatives, each a list of (scheme, authenticator)."""

    def __init__(
        self, spec: dict[str, Any], op: Operation, authenticators: Mapping[str, Authenticator]
    ) -> None:
        self.alternatives = [[(n, authenticators[n]) for n in alt] for alt in op.security]
        names = sorted({name for alt in op.security for name in alt})
        self.hint = f"{op.operation_id} needs credentials: one of {', '.join(names)}."

    def principal(self, request: Request, raw: bytes) -> Any:
        if not self.alternatives:
            return None
        first_reason: Problem | None = None
        for alternative in self.alternatives:
            try:
                principal = _satisfy(alternative, request, raw)
            except Problem as problem:
                first_reason = first_reason or problem
                continue
            if principal is not _DENIED:
                return principal
        raise first_reason or Problem.unauthorized(f"Missing or invalid credentials: {self.hint}")


def _satisfy(alternative: list[tuple[str, Authenticator]], request: Request, raw: bytes) -> Any:
    """The principal of the alternative's first scheme when every scheme accepts, else DENIED."""
    principals = []
    for _name, authenticate in alternative:
        try:
            principal = authenticate(request, raw)
        except MissingSignatureError:
            return _DENIED
        except SignatureError as exc:
            raise Problem.unauthorized(str(exc), _signature_code(exc)) from exc
        if principal is None:
            return _DENIED
        principals.append(principal)
    return principals[0] if principals else None


def _signature_code(exc: SignatureError) -> str:
    if isinstance(exc, StaleTimestampError):
        return "stale_signature"
    return "invalid_signature" if isinstance(exc, InvalidSignatureError) else "unauthorized"


# ---------------------------------------------------------------------------------- parameters

_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_NO_DEFAULT = object()


def _read_path(request: Request, name: str, _array: bool, _explode: bool) -> Any:
    return request.path_params.get(name)


def _read_query(request: Request, name: str, array: bool, explode: bool) -> Any:
    if not array:
        return request.query_params.get(name)
    values = request.query_params.getlist(name)
    if not explode and values:
        return values[-1].split(",")
    return values or None


def _read_header(request: Request, name: str, array: bool, _explode: bool) -> Any:
    value = request.headers.get(name)
    return [part.strip() for part in value.split(",")] if array and value is not None else value


_READERS = {"path": _read_path, "query": _read_query, "header": _read_header}


@dataclass(frozen=True)
class _Param:
    name: str
    location: str
    required: bool
    kind: str | None
    item_kind: str | None
    explode: bool
    default: Any
    validator: Validator | None

    @classmethod
    def compile(cls, spec: dict[str, Any], parameter: dict[str, Any]) -> _Param:
        schema = parameter.get("schema")
        resolved = resolve(spec, schema) if isinstance(schema, dict) else {}
        items = resolve(spec, resolved.get("items") or {})
        return cls(
            name=parameter["name"],
            location=parameter["in"],
            required=bool(parameter.get("required")) or parameter["in"] == "path",
            kind=_schema_type(resolved),
            item_kind=_schema_type(items),
            explode=parameter.get("explode", parameter.get("style", "form") == "form"),
            default=resolved.get("default", _NO_DEFAULT),
            validator=validator_for(spec, schema) if isinstance(schema, dict) else None,
        )

    def read(self, request: Request) -> tuple[Any, list[FieldError]]:
        """The coerced value (``_NO_DEFAULT`` when absent) and what is wrong with it."""
        raw = _READERS[self.location](request, self.name, self.kind == "array", self.explode)
        if raw is None:
            missing = [FieldError(self.name, "is required")] if self.required else []
            return self.default, missing
        if self.kind == "array":
            value = [_coerce(item, self.item_kind) for item in raw]
        else:
            value = _coerce(raw, self.kind)
        if self.validator is None:
            return value, []
        return value, [
            FieldError(self.name + e.field, e.message) for e in self.validator.errors(value)
        ]


def _schema_type(schema: Any) -> str | None:
    kind = schema.get("type") if isinstance(schema, dict) else None
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind if isinstance(kind, str) else None


def _coerce(raw: str, kind: str | None) -> Any:
    """``raw`` converted to ``kind``; left a string when it does not convert, so that schema
    validation reports the type error."""
    if kind == "integer" and _INTEGER.fullmatch(raw):
        return int(raw)
    if kind == "number" and _INTEGER.fullmatch(raw):
        return int(raw)
    if kind == "number" and _NUMBER.fullmatch(raw):
        number = float(raw)
        return number if math.isfinite(number) else raw
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


def _parameters(params: list[_Param], request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
    """Path and query values; 404 for a bad path parameter, 400 for a bad query/header one."""
    values: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}}
    errors: dict[str, list[FieldError]] = {"path": [], "query": [], "header": []}
    for param in params:
        value, found = param.read(request)
        errors[param.location] += found
        if value is not _NO_DEFAULT:
            values[param.location][param.name] = value
    errors["query"] += _unknown_query(params, request)
    if errors["path"]:
        detail = "; ".join(f"path parameter {e.field} {e.message}" for e in errors["path"])
        raise Problem(
            404, "Not found", f"No such resource: {detail}.", "not_found", errors=errors["path"]
        )
    if bad := errors["query"] + errors["header"]:
        detail = "; ".join(f"{e.field} {e.message}" for e in bad[:5])
        raise Problem.bad_request(f"Invalid parameter(s): {detail}.", "invalid_parameter", bad)
    return values["path"], values["query"]


def _unknown_query(params: list[_Param], request: Request) -> list[FieldError]:
    """An operation with query parameters refuses names it does not declare (a typo such as
    ``stauts=open`` would otherwise be ignored silently); one without any ignores the query."""
    declared = {p.name for p in params if p.location == "query"}
    if not declared:
        return []
    allowed = ", ".join(sorted(declared))
    return [
        FieldError(name, f"is not a query parameter of this operation (allowed: {allowed})")
        for name in dict.fromkeys(request.query_params.keys())
        if name not in declared
    ]


# ---------------------------------------------------------------------------------- responses


class _ResponseCheck:
    """The documented responses of one operation, with their JSON body validators.

    A handler that answers from a cache returns the very ``raw_json`` bytes object it returned
    before; the last few bodies that passed are remembered by identity (holding a reference, so
    the identity cannot be reused) and are not parsed and validated again.
    """

    PASSED = 32  # bodies remembered per operation

    def __init__(self, spec: dict[str, Any], op: Operation) -> None:
        self.op = op
        self.passed: OrderedDict[tuple[int, int], bytes] = OrderedDict()
        self.declared: dict[str, tuple[bool, Validator | None]] = {}
        for status, response in op.responses.items():
            content = response.get("content") or {}
            schema = (content.get(JSON_MEDIA_TYPE) or {}).get("schema")
            validator = validator_for(spec, schema) if schema is not None else None
            self.declared[status.upper()] = (bool(content), validator)

    def check(self, reply: Reply, content: bytes) -> None:
        key = (reply.status, id(content))
        if reply.raw_json is not None and self.passed.get(key) is content:
            return
        errors = self._errors(reply, content)
        if errors:
            log.error(
                "%s answered %s against its contract: %s",
                self.op.operation_id,
                reply.status,
                "; ".join(f"{e.field or '/'} {e.message}" for e in errors),
            )
            detail = (
                f"The server's {reply.status} response to {self.op.operation_id} broke the "
                "contract (a server bug; it has been logged)."
            )
            code = "response_contract_violation"
            raise Problem(500, "Response contract violation", detail, code, errors=errors)
        if reply.raw_json is not None:
            self.passed[key] = content
            if len(self.passed) > self.PASSED:
                self.passed.popitem(last=False)

    def _errors(self, reply: Reply, content: bytes) -> list[FieldError]:
        declared = self._declared(str(reply.status))
        if declared is None:
            return [FieldError("", f"status {reply.status} is not documented for this operation")]
        has_body, validator = declared
        if bool(content) != has_body:
            said = "has a body; none was sent" if has_body else "has no body; one was sent"
            return [FieldError("", f"the documented {reply.status} response {said}")]
        if validator is None or not content:
            return []
        return validator.errors(json.loads(content) if reply.raw_json is not None else reply.body)

    def _declared(self, status: str) -> tuple[bool, Validator | None] | None:
        """The exact status, else its range (``2XX``), else ``default``."""
        for key in (status, f"{status[0]}XX", "DEFAULT"):
            if key in self.declared:
                return self.declared[key]
        return None


def _internal_error() -> Problem:
    return Problem.internal("The server failed while handling this request; the error was logged.")


# ---------------------------------------------------------------------------------- app errors


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
    return _internal_error().to_response(request.url.path)


_EXCEPTION_HANDLERS: dict[
    int | type[Exception], Callable[[Request, Any], Coroutine[Any, Any, Response]]
] = {
    HTTPException: _http_error,
    Problem: _problem,
    DomainError: _refused,
    Exception: _unhandled,
}
