"""Path, query and header parameters: read by location and style, coerced by their schema type,
validated, and remembered per distinct raw input (clients repeat the same queries)."""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from lotflow.openapi import Operation, Validator, resolve, validator_for
from lotflow.problems import FieldError, Problem

__all__ = ["Parameter", "Parameters", "parse_parameters"]

_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_NO_DEFAULT = object()
MAX_NUMBER_TEXT = 64
"""The longest text read as an integer or a number: longer is refused before converting (Python
refuses to convert integers of 4,300+ digits, and a float of 309+ digits overflows)."""

Values = tuple[dict[str, Any], dict[str, Any]]  # path values, query values


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
class Parameter:
    """One declared parameter, compiled: where it is read, how it is coerced and checked."""

    name: str
    location: str
    required: bool
    kind: str | None
    item_kind: str | None
    explode: bool
    default: Any
    validator: Validator | None
    max_length: int | None = None

    @classmethod
    def compile(cls, spec: dict[str, Any], parameter: dict[str, Any]) -> Parameter:
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
            max_length=resolved.get("maxLength"),
        )

    def read(self, request: Request) -> tuple[Any, list[FieldError]]:
        """The coerced value (``_NO_DEFAULT`` when absent) and what is wrong with it."""
        raw = _READERS[self.location](request, self.name, self.kind == "array", self.explode)
        if raw is None:
            missing = [FieldError(self.name, "is required")] if self.required else []
            return self.default, missing
        items = raw if self.kind == "array" else [raw]
        kinds = self.item_kind if self.kind == "array" else self.kind
        if kinds in ("integer", "number") and any(len(item) > MAX_NUMBER_TEXT for item in items):
            longest = max(len(item) for item in items)
            message = f"is {longest} characters long; a {kinds} here has at most {MAX_NUMBER_TEXT}"
            return _NO_DEFAULT, [FieldError(self.name, message)]
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


def parse_parameters(params: list[Parameter], request: Request) -> Values:
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


def _unknown_query(params: list[Parameter], request: Request) -> list[FieldError]:
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


class Parameters:
    """The parameters of one operation, parsed once per distinct raw input (path values and
    query string) and remembered for the last ``INPUTS_REMEMBERED`` inputs; not for operations that
    read headers. Each request gets its own copies. ``parsed`` and ``reused`` count how often
    an input was parsed and how often a remembered one served."""

    INPUTS_REMEMBERED = 256

    def __init__(self, spec: dict[str, Any], op: Operation) -> None:
        self.params = [Parameter.compile(spec, p) for p in op.parameters if p.get("in") in _READERS]
        self._header_limits = [
            (p.name, p.max_length)
            for p in self.params
            if p.location == "header" and p.max_length is not None
        ]
        reads_headers = any(p.location == "header" for p in self.params)
        self._memo: OrderedDict[tuple[Any, ...], Values] | None = (
            None if reads_headers else OrderedDict()
        )
        self.parsed = 0
        self.reused = 0

    def check_header_limits(self, request: Request) -> None:
        """400 for a declared header longer than its schema's ``maxLength``: checked before
        authentication, so that nothing (a signature check included) parses an oversized
        value."""
        too_long = [
            FieldError(name, f"is {len(value)} characters long; at most {limit}")
            for name, limit in self._header_limits
            if (value := request.headers.get(name)) is not None and len(value) > limit
        ]
        if too_long:
            detail = "; ".join(f"header {e.field} {e.message}" for e in too_long)
            problem = f"Invalid header(s): {detail}."
            raise Problem.bad_request(problem, "invalid_parameter", too_long)

    def values(self, request: Request) -> Values:
        """The request's path and query values (raises a problem for bad input)."""
        memo = self._memo
        if memo is None:
            self.parsed += 1
            return parse_parameters(self.params, request)
        key = (request.scope.get("query_string", b""), *request.path_params.items())
        found = memo.get(key)
        if found is None:
            self.parsed += 1
            found = memo[key] = parse_parameters(self.params, request)  # raises for bad input
            if len(memo) > self.INPUTS_REMEMBERED:
                memo.popitem(last=False)
        else:
            self.reused += 1
            memo.move_to_end(key)
        path_params, query = found
        return dict(path_params), {k: _copied(v) for k, v in query.items()}


def _copied(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value
