"""The response check: a handler's reply against the operation's documented responses."""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from typing import Any

from lotflow.http.messages import JSON_MEDIA_TYPE, Reply
from lotflow.openapi import Operation, Validator, validator_for
from lotflow.problems import FieldError, Problem

__all__ = ["ResponseCheck"]

log = logging.getLogger("lotflow.http")


class ResponseCheck:
    """The documented responses of one operation, with their JSON body validators.

    A handler that answers from a cache returns the very ``raw_json`` bytes object it returned
    before; the last ``BODIES_REMEMBERED`` bodies that passed are remembered by identity (holding a
    reference, so the identity cannot be reused) and are not parsed and validated again.
    ``validated`` and ``reused`` count the replies checked and the ones let through as already
    checked.
    """

    BODIES_REMEMBERED = 32

    def __init__(self, spec: dict[str, Any], op: Operation) -> None:
        self.op = op
        self.validated = 0
        self.reused = 0
        self._passed: OrderedDict[tuple[int, int], bytes] = OrderedDict()
        self._declared: dict[str, tuple[bool, Validator | None]] = {}
        for status, response in op.responses.items():
            content = response.get("content") or {}
            schema = (content.get(JSON_MEDIA_TYPE) or {}).get("schema")
            validator = validator_for(spec, schema) if schema is not None else None
            self._declared[status.upper()] = (bool(content), validator)

    def check(self, reply: Reply, content: bytes) -> None:
        """Raise a 500 ``response_contract_violation`` problem when the reply breaks the
        contract (and log it: it is a server bug)."""
        key = (reply.status, id(content))
        if reply.raw_json is not None and self._passed.get(key) is content:
            self.reused += 1
            return
        self.validated += 1
        errors = self._errors(reply, content)
        if errors:
            raise self._violation(reply, errors)
        if reply.raw_json is not None:
            self._passed[key] = content
            if len(self._passed) > self.BODIES_REMEMBERED:
                self._passed.popitem(last=False)

    def _violation(self, reply: Reply, errors: list[FieldError]) -> Problem:
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
        return Problem(500, "Response contract violation", detail, code, errors=errors)

    def _errors(self, reply: Reply, content: bytes) -> list[FieldError]:
        declared = self._documented(str(reply.status))
        if declared is None:
            return [FieldError("", f"status {reply.status} is not documented for this operation")]
        has_body, validator = declared
        if bool(content) != has_body:
            said = "has a body; none was sent" if has_body else "has no body; one was sent"
            return [FieldError("", f"the documented {reply.status} response {said}")]
        if validator is None or not content:
            return []
        return validator.errors(json.loads(content) if reply.raw_json is not None else reply.body)

    def _documented(self, status: str) -> tuple[bool, Validator | None] | None:
        """The exact status, else its range (``2XX``), else ``default``."""
        for key in (status, f"{status[0]}XX", "DEFAULT"):
            if key in self._declared:
                return self._declared[key]
        return None
