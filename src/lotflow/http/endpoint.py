"""One operation's route handler: body, authentication, parameters, call, response check."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from lotflow.errors import DomainError
from lotflow.http.auth import OperationAuth, SchemeAuthenticator
from lotflow.http.body import check_media_type, encode_json, parse_json, read_body
from lotflow.http.errors import internal_error
from lotflow.http.messages import JSON_MEDIA_TYPE, Handler, OperationRequest, Reply
from lotflow.http.parameters import Parameters
from lotflow.http.responses import ResponseCheck
from lotflow.http.throttle import FailureThrottle
from lotflow.openapi import Operation, validator_for
from lotflow.problems import FieldError, Problem
from lotflow.threads import in_thread

__all__ = ["Endpoint", "Limits"]

log = logging.getLogger("lotflow.http")


@dataclass(frozen=True)
class Limits:
    """What every route of an app shares: the body size limit, whether replies are checked, and
    the count of failed authentications per client (None: not counted)."""

    max_body_bytes: int
    validate_responses: bool
    throttle: FailureThrottle | None = None


class Endpoint:
    """Everything one operation's route needs, compiled once at build time. ``parameters`` and
    ``responses`` (None when replies are not checked) carry counters of their caches."""

    def __init__(
        self,
        spec: dict[str, Any],
        op: Operation,
        handler: Handler,
        authenticators: Mapping[str, SchemeAuthenticator],
        limits: Limits,
    ) -> None:
        self.op = op
        self.handler = handler
        self.is_async = _is_async(handler)
        self.limits = limits
        self.auth = OperationAuth(op, authenticators)
        self.parameters = Parameters(spec, op)
        schema = op.request_schema
        self.body_validator = validator_for(spec, schema) if schema is not None else None
        self.responses = ResponseCheck(spec, op) if limits.validate_responses else None

    async def handle(self, request: Request) -> Response:
        """The route: every failure is answered as a problem."""
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
            return internal_error().to_response(request.url.path)

    async def _prepare(self, request: Request) -> OperationRequest:
        raw = await read_body(request, self.limits.max_body_bytes)
        self.parameters.check_header_limits(request)
        principal = self._authenticate(request, raw)
        path_params, query = self.parameters.values(request)
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

    def _authenticate(self, request: Request, raw: bytes) -> Any:
        """The principal; with a throttle, a client past its failures is refused first (429)
        and every refusal counts against it."""
        throttle = self.limits.throttle
        if throttle is None or not self.auth.alternatives:
            return self.auth.principal(request, raw)
        client = request.client.host if request.client else ""
        throttle.check(client)
        try:
            return self.auth.principal(request, raw)
        except Problem as refused:
            if refused.status == 401:
                throttle.failed(client)
            raise

    def _body(self, request: Request, raw: bytes) -> Any:
        if self.body_validator is None:
            return None
        if not raw:
            if self.op.request_required:
                raise Problem.validation([FieldError("", "a JSON request body is required")])
            return None
        check_media_type(request.headers.get("content-type"), self.op.request_media_types)
        body = parse_json(raw)
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
        content = reply.raw_json if reply.raw_json is not None else encode_json(reply.body)
        if self.responses is not None:
            self.responses.check(reply, content)
        media_type = JSON_MEDIA_TYPE if content else None
        return Response(content, reply.status, headers=reply.headers, media_type=media_type)


def _is_async(handler: Any) -> bool:
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004 - looking for an async __call__
    )
