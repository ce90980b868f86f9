"""Turn JSON Schema errors about a scenario file into diagnostics a person can act on.

Each :class:`Diagnostic` has the line to look at and a message that names the place in words
("step 'publish-lot', webhooks[0]"), the value seen, what is allowed and, for a misspelt key or
value, the closest valid one.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

import jsonschema_rs

from lotflow.yamlsource import Path_, Positions

STEP_KINDS = ("call", "outage", "network", "wait")
TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "string": "text",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
}


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One thing wrong with a file: where (1-based line) and what.

    ``suggested`` is the key a misspelling most likely meant; ``missing`` the keys a
    "required" complaint is about: a missing key that a suggestion already names is not
    reported twice.
    """

    line: int
    message: str
    location: Path_ = field(default=(), compare=False)
    suggested: str | None = field(default=None, compare=False)
    missing: frozenset[str] = field(default=frozenset(), compare=False)


@cache
def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file (``scenarios/schema.json``)."""
    text = (files("lotflow.scenarios") / "schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Any:
    return jsonschema_rs.validator_for(scenario_schema())


def schema_problems(data: Any, positions: Positions) -> list[Diagnostic]:
    """Every way ``data`` breaks the scenario schema, one problem each, in line order."""
    found: list[Diagnostic] = []
    for error in _validator().iter_errors(data):
        handler = _EXPLAINERS.get(_kind(error), _generic)
        found += handler(error, data, positions)
    return sorted(set(_drop_restated(found)))


def _kind(error: Any) -> str:
    kind = str(error.kind.name)
    if kind == "required" and list(error.schema_path)[-1] == "dependentRequired":
        return "dependentRequired"
    return kind


def _drop_restated(problems: list[Diagnostic]) -> list[Diagnostic]:
    suggested = {(p.location, p.suggested) for p in problems if p.suggested}
    return [p for p in problems if not any((p.location, name) in suggested for name in p.missing)]


# ---------------------------------------------------------------- naming places in words
def describe(data: Any, location: Sequence[str | int]) -> str:
    """A place in the file in words: ``step 'publish-lot', webhooks[0].within``."""
    if not location:
        return "the top level"
    if len(location) >= 2 and location[0] == "steps" and isinstance(location[1], int):
        head = _step_name(data, location[1])
        rest = _dotted(location[2:])
        return f"{head}, {rest}" if rest else head
    return _dotted(location)


def _step_name(data: Any, index: int) -> str:
    steps = data.get("steps") if isinstance(data, Mapping) else None
    step = steps[index] if isinstance(steps, list) and index < len(steps) else None
    step_id = step.get("id") if isinstance(step, Mapping) else None
    return f"step {step_id!r}" if isinstance(step_id, str) else f"steps[{index}]"


def _dotted(location: Sequence[str | int]) -> str:
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location)
    return text.lstrip(".")


def _inside(data: Any, location: Sequence[str | int]) -> str:
    return "at the top level" if not location else f"in {describe(data, location)}"


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice most like ``word`` (a likely misspelling), if any is close enough."""
    near = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return near[0] if near else None


def _schema_at(schema_path: Sequence[str | int]) -> dict[str, Any]:
    node: Any = scenario_schema()
    for part in schema_path:
        node = node[part]
    return node if isinstance(node, dict) else {}


def _json_type(value: Any) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", str: "text"}
    names |= {list: "a list", dict: "a mapping", type(None): "empty"}
    return names.get(type(value), type(value).__name__)


# ---------------------------------------------------------------- one handler per error kind
Explainer = Callable[[Any, Any, Positions], list[Diagnostic]]


def _unknown_keys(error: Any, data: Any, positions: Positions) -> list[Diagnostic]:
    location = tuple(error.instance_path)
    allowed = list(_schema_at(list(error.schema_path)[:-1]).get("properties", {}))
    problems = []
    for key in error.kind.unexpected:
        near = closest(key, allowed)
        hint = f"; did you mean {near!r}?" if near else f"; expected one of: {', '.join(allowed)}"
        message = f"unknown key {key!r} {_inside(data, location)}{hint}"
        line = positions.key_line((*location, key))
        problems.append(Diagnostic(line, message, location, suggested=near))
    return problems


def _required(error: Any, data: Any, positions: Positions) -> list[Diagnostic]:
    location = tuple(error.instance_path)
    name = error.kind.property
    message = f"{describe(data, location)} is missing the required key {name!r}"
    return [Diagnostic(positions.line(location), message, location, missing=frozenset({name}))]


def _dependent(error: Any, data: Any, positions: Positions) -> list[Diagnostic]:
    location = tuple(error.instance_path)
    name = error.kind.property
    other = "call" if name == "actor" else "actor"
    message = (
        f"{describe(data, location)} has {other!r} but no {name!r}: "
        "a call step names both who acts (actor) and what it calls (call)"
    )
    return [Diagnostic(positions.line(location), message, location, missing=frozenset({name}))]


def _one_of(error: Any, data: Any, positions: Positions) -> list[Diagnostic]:
    location = tuple(error.instance_path)
    if list(error.schema_path)[-2:] == ["network", "oneOf"]:
        message = (
            f"{describe(data, location)} must either set a fault (network: {{fault: duplicate}}) "
            "or release the held copies (network: {release: held}), not both nor neither"
        )
        return [Diagnostic(positions.line(location), message, location)]
    if list(error.schema_path)[-2:] != ["step", "oneOf"]:
        return _generic(error, data, positions)
    present = [k for k in STEP_KINDS if isinstance(error.instance, Mapping) and k in error.instance]
    if present:
        shown = " and ".join(repr(k) for k in present)
        detail = (
            f"it has {shown}; keep one (a step is one call, one outage, one network or one wait)"
        )
    else:
        detail = "it has none: add 'actor' + 'call', 'outage', 'network' or 'wait'"
    message = f"{describe(data, location)} must be exactly one kind of step: {detail}"
    missing = frozenset(STEP_KINDS) if not present else frozenset()
    return [Diagnostic(positions.line(location), message, location, missing=missing)]


def _type(error: Any, data: Any, positions: Positions) -> list[Diagnostic]:
    location = tuple(error.instance_path)
    wanted = " or ".join(TYPE_WORDS.get(t, t) for t in error.kind.types)
    seen = _json_type(error.instance)
    message = f"{describe(data, location)} is {seen} ({_short(error.instance)}); expected {wanted}"
    return [Diagnostic(positions.line(location), message, location)]


def _enum(error: Any, data: Any, positions: Positions) -> list[Diagnostic]:
    location = tuple(error.instance_path)
    options = [str(o) for o in error.kind.options]
    near = closest(str(error.instance), options)
    hint = f"; did you mean {near!r}?" if near else ""
    message = (
        f"{describe(data, location)} is {_short(error.instance)}; "
        f"expected one of: {', '.join(options)}{hint}"
    )
    return [Diagnostic(positions.line(location), message, location)]


def _pattern(error: Any, data: Any, positions: Positions) -> list[Diagnostic]:
    location = tuple(error.instance_path)
    wanted = _schema_at(list(error.schema_path)[:-1]).get("description") or (
        f"text matching {error.kind.pattern}"
    )
    message = f"{describe(data, location)} is {_short(error.instance)}, which is not {wanted}"
    return [Diagnostic(positions.line(location), message, location)]


def _property_name(error: Any, data: Any, positions: Positions) -> list[Diagnostic]:
    location = tuple(error.instance_path)
    key = error.kind.error.instance
    wanted = _schema_at(list(error.schema_path)[:-1]).get("description") or "an allowed name"
    message = f"the key {key!r} {_inside(data, location)} is not {wanted}"
    return [Diagnostic(positions.key_line((*location, str(key))), message, location)]


def _empty(error: Any, data: Any, positions: Positions) -> list[Diagnostic]:
    location = tuple(error.instance_path)
    advice = "must not be empty" if _kind(error) == "minLength" else "is empty; give at least one"
    message = f"{describe(data, location)} {advice}"
    return [Diagnostic(positions.line(location), message, location)]


def _generic(error: Any, data: Any, positions: Positions) -> list[Diagnostic]:
    location = tuple(error.instance_path)
    message = f"{describe(data, location)}: {error.message}"
    return [Diagnostic(positions.line(location), message, location)]


def _const(error: Any, data: Any, positions: Positions) -> list[Diagnostic]:
    location = tuple(error.instance_path)
    wanted = _schema_at(list(error.schema_path)[:-1]).get("const")
    message = f"{describe(data, location)} is {_short(error.instance)}; it must be {wanted!r}"
    return [Diagnostic(positions.line(location), message, location)]


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_EXPLAINERS: dict[str, Explainer] = {
    "additionalProperties": _unknown_keys,
    "required": _required,
    "dependentRequired": _dependent,
    "oneOf": _one_of,
    "type": _type,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "propertyNames": _property_name,
    "minItems": _empty,
    "minLength": _empty,
    "minProperties": _empty,
}
