"""The spec-bound app builder: a FastAPI app whose routes are the operations of a bundled spec.

A portal hands :func:`build_app` its bundled document and one handler per operationId. Each route
does, in this order:

1. read the raw body up to ``max_body_bytes`` (413 ``payload_too_large``) — :mod:`.body`; a
   declared header longer than its schema's ``maxLength`` is a 400 before anything parses it;
2. authenticate (with an ``auth_throttle``, a client past its failed authentications gets 429
   ``too_many_failures`` first — :mod:`.throttle`): the operation's ``security`` (or the
   document's) lists alternatives; the first alternative whose every scheme's authenticator
   returns a principal wins (401 ``unauthorized`` otherwise; a refused webhook signature is 401
   ``invalid_signature`` or ``stale_signature``) — :mod:`.auth`;
3. coerce path, query and header parameters by their schema type and validate them (a bad path
   parameter names no resource: 404 ``not_found``; a bad query or header parameter: 400
   ``invalid_parameter``), filling in schema defaults for absent query parameters —
   :mod:`.parameters`;
4. for a JSON request body: 415 for a media type the operation does not declare, 400
   ``invalid_json`` when it does not parse, 422 ``validation_failed`` when it breaks the schema
   (or is required and absent);
5. call the handler with an :class:`OperationRequest`; it returns a :class:`Reply` or raises a
   :class:`~lotflow.problems.Problem`, or a :class:`~lotflow.errors.DomainError` that is
   answered as its problem (``Problem.from_error``). Sync handlers run in the threadpool
   (:mod:`.endpoint`);
6. with ``validate_responses``, check the reply against the documented response; a mismatch is a
   server bug, answered 500 ``response_contract_violation`` and logged — :mod:`.responses`.

Every error is ``application/problem+json``: unknown paths (404), wrong methods (405) and
unhandled exceptions (500, logged, no traceback on the wire) included (:mod:`.errors`).
``GET /openapi.json`` serves the bundled document itself; FastAPI's own schema and docs routes
are off. Routes are ordered and matched as OpenAPI says (:mod:`.routing`). Every answer carries
``X-Content-Type-Options: nosniff`` and ``Cache-Control: no-store`` (:mod:`.headers`).
"""

from __future__ import annotations

from lotflow.http.app import build_app
from lotflow.http.auth import Authenticator, ForOperation, SchemeAuthenticator
from lotflow.http.messages import Handler, OperationRequest, Reply
from lotflow.http.routing import SPEC_PATH, OperationRoute, operation_route, routes_of
from lotflow.http.throttle import FailureThrottle

__all__ = [
    "SPEC_PATH",
    "Authenticator",
    "FailureThrottle",
    "ForOperation",
    "Handler",
    "OperationRequest",
    "OperationRoute",
    "Reply",
    "SchemeAuthenticator",
    "build_app",
    "operation_route",
    "routes_of",
]
