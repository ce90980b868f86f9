"""A scenario file checked statically against the spec, so that ``scenario validate`` catches
what would otherwise fail only at run time:

- a ``path:`` parameter the operation does not have (or one it needs and is not given);
- a ``${variable}`` that no earlier step saves (a step's checks may use what it saves itself);
- a JSON pointer (``expect``/``save``/``state``/``agree``/webhook ``match``, a network release's
  ``match``) into a field the response (or webhook payload) schema does not have, or (webhook
  ``answer``) into a field the receiver's 2xx answer does not have.

Schemas are read from the bundled portal documents. A pointer is refused only where the schema
lists its properties and declares no ``additionalProperties`` (the spec is the contract: a field
it does not document is not part of it); an untyped value or a declared open map accepts any.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lotflow.engine.diagnostics import Diagnostic, describe
from lotflow.engine.variables import REFERENCE, RELATIVE
from lotflow.openapi import operations
from lotflow.yamlsource import Path_, Positions

__all__ = ["SpecFacts", "spec_facts", "static_problems"]

BUILT_IN = ("run_id",)
COMBINATORS = ("allOf", "oneOf", "anyOf")


@dataclass(frozen=True)
class OperationFacts:
    """What a scenario may say about one operation: its path parameters and response bodies."""

    path_params: frozenset[str]
    responses: Mapping[str, Any]  # status ("200", "4XX", "default") → body schema (may be None)


@dataclass(frozen=True)
class SpecFacts:
    """The facts of both portals' bundled documents a scenario is checked against."""

    operations: Mapping[str, OperationFacts]
    webhooks: Mapping[str, Any]  # event name → payload schema
    documents: Mapping[str, dict[str, Any]]  # operationId/event → its bundled document
    answers: Mapping[str, Any] = field(default_factory=dict)  # event → 2xx answer schema


def spec_facts(specs: Mapping[str, dict[str, Any]]) -> SpecFacts:
    """Facts from ``{"buyer": document, "producer": document}`` (bundled)."""
    found: dict[str, OperationFacts] = {}
    documents: dict[str, dict[str, Any]] = {}
    for document in specs.values():
        for op_id, op in operations(document).items():
            params = frozenset(p["name"] for p in op.parameters if p.get("in") == "path")
            responses = {status: _body_schema(r) for status, r in op.responses.items()}
            found[op_id] = OperationFacts(params, responses)
            documents[op_id] = document
    hooks: dict[str, Any] = {}
    answers: dict[str, Any] = {}
    for document in specs.values():
        for event, item in (document.get("webhooks") or {}).items():
            post = item.get("post", {})
            hooks[event] = _body_schema(post.get("requestBody") or {})
            ok = [r for status, r in (post.get("responses") or {}).items() if status[0] == "2"]
            answers[event] = _body_schema(ok[0]) if ok else None
            documents[event] = document
    return SpecFacts(found, hooks, documents, answers)


def _body_schema(holder: Mapping[str, Any]) -> Any:
    for media, content in (holder.get("content") or {}).items():
        if "json" in media:
            return content.get("schema")
    return None


def static_problems(
    data: dict[str, Any], positions: Positions, facts: SpecFacts
) -> list[Diagnostic]:
    """Every problem of a schema- and rule-valid scenario document against the spec."""
    checker = _Checker(data, positions, facts)
    saved: set[str] = set(BUILT_IN)
    for index, step in enumerate(data["steps"]):
        checker.step(step, ("steps", index), saved)
    return sorted(checker.problems)


class _Checker:
    def __init__(self, data: dict[str, Any], positions: Positions, facts: SpecFacts) -> None:
        self.data, self.positions, self.facts = data, positions, facts
        self.problems: list[Diagnostic] = []

    def add(self, location: Path_, message: str, *, key: bool = False) -> None:
        line = self.positions.key_line(location) if key else self.positions.line(location)
        self.problems.append(Diagnostic(line, f"{describe(self.data, location[:2])}: {message}"))

    def step(self, step: dict[str, Any], location: Path_, saved: set[str]) -> None:
        if "call" in step:
            self.call(step, location)
            self.variables({k: step.get(k) for k in ("path", "query", "body")}, location, saved)
            self.variables(step.get("expect"), (*location, "expect"), saved)
            expect = step.get("expect") or {}
            statuses = _statuses(expect.get("status"))
            for pointer in expect.get("body") or {}:
                where = (*location, "expect", "body", pointer)
                self.pointer(step["call"], statuses, pointer, where)
            for name, pointer in (step.get("save") or {}).items():
                self.pointer(step["call"], statuses, pointer, (*location, "save", name))
            saved |= set(step.get("save") or {})
        if "network" in step:
            self.network(step["network"], (*location, "network"), saved)
        holder, base = (step["wait"], (*location, "wait")) if "wait" in step else (step, location)
        self.checks(holder, base, saved)

    def network(self, network: dict[str, Any], where: Path_, saved: set[str]) -> None:
        self.variables(network.get("match"), where, saved)
        if "event" in network:
            for pointer in network.get("match") or {}:
                self.webhook_pointer(network["event"], pointer, (*where, "match", pointer))

    def checks(self, holder: dict[str, Any], base: Path_, saved: set[str]) -> None:
        for number, hook in enumerate(holder.get("webhooks") or []):
            where = (*base, "webhooks", number)
            self.variables(hook.get("match"), where, saved)
            for pointer in hook.get("match") or {}:
                self.webhook_pointer(hook["event"], pointer, (*where, "match", pointer))
            self.variables(hook.get("answer"), where, saved)
            for pointer in hook.get("answer") or {}:
                self.answer_pointer(hook["event"], pointer, (*where, "answer", pointer))
        for number, state in enumerate(holder.get("state") or []):
            where = (*base, "state", number)
            self.call(state, where)
            self.variables(state, where, saved)
            for pointer in state.get("expect") or {}:
                statuses = _statuses(state.get("status"))
                self.pointer(state["call"], statuses, pointer, (*where, "expect", pointer))
        for number, agreement in enumerate(holder.get("agree") or []):
            for side in ("buyer", "producer"):
                where = (*base, "agree", number, side)
                raw = agreement[side]
                self.call(raw, where)
                self.variables(raw, where, saved)
                self.pointer(raw["call"], (), raw["at"], (*where, "at"))

    # ---------------------------------------------------------------- path parameters
    def call(self, raw: dict[str, Any], location: Path_) -> None:
        op = self.facts.operations.get(raw["call"])
        if op is None:
            return  # the rules already named the unknown operation
        given = set(raw.get("path") or {})
        for name in sorted(given - op.path_params):
            has = ", ".join(sorted(op.path_params)) or "none"
            self.add(
                (*location, "path", name),
                f"{raw['call']} has no path parameter {name!r} (its path parameters: {has})",
                key=True,
            )
        for name in sorted(op.path_params - given):
            self.add(location, f"{raw['call']} needs the path parameter {name!r} under 'path:'")

    # ---------------------------------------------------------------- variables
    def variables(self, value: Any, location: Path_, saved: set[str]) -> None:
        for name, where in _references(value, location):
            if name in saved or RELATIVE.match(name):
                continue
            known = ", ".join(sorted(saved - set(BUILT_IN))) or "none yet"
            self.add(
                where,
                f"${{{name}}} is not saved by an earlier step and is not built in "
                f"(saved so far: {known}; built in: run_id, now, now+7d, ...)",
            )

    # ---------------------------------------------------------------- pointers
    def pointer(self, op_id: str, statuses: tuple[int, ...], pointer: str, where: Path_) -> None:
        op = self.facts.operations.get(op_id)
        if op is None or not pointer:
            return
        chosen = [str(s) for s in statuses] or [s for s in op.responses if s.startswith("2")]
        schemas = [op.responses.get(s) for s in chosen]
        document = self.facts.documents[op_id]
        if any(s is None for s in schemas) or not schemas:
            return  # an undocumented status or body: nothing to check the pointer against
        missing = [_missing(document, schema, pointer) for schema in schemas]
        if all(m is not None for m in missing):
            self.add(where, f"{pointer} is not in the response of {op_id}: {missing[0]}", key=True)

    def webhook_pointer(self, event: str, pointer: str, where: Path_) -> None:
        schema = self.facts.webhooks.get(event)
        if schema is None or not pointer:
            return
        missing = _missing(self.facts.documents[event], schema, pointer)
        if missing is not None:
            self.add(where, f"{pointer} is not in the {event} payload: {missing}", key=True)

    def answer_pointer(self, event: str, pointer: str, where: Path_) -> None:
        schema = self.facts.answers.get(event)
        if schema is None or not pointer:
            return
        missing = _missing(self.facts.documents[event], schema, pointer)
        if missing is not None:
            self.add(
                where, f"{pointer} is not in the receiver's answer to {event}: {missing}", key=True
            )


def _statuses(raw: Any) -> tuple[int, ...]:
    if raw is None:
        return ()
    return tuple(raw) if isinstance(raw, list) else (raw,)


def _references(value: Any, location: Path_) -> Iterator[tuple[str, Path_]]:
    if isinstance(value, str):
        for match in REFERENCE.finditer(value):
            if not match.group(1):
                yield match.group(2), location
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _references(key, location)
            yield from _references(item, (*location, key))
    elif isinstance(value, list):
        for number, item in enumerate(value):
            yield from _references(item, (*location, number))


def _missing(document: dict[str, Any], schema: Any, pointer: str) -> str | None:
    """None when ``pointer`` can exist in a body matching ``schema``, else why not."""
    parts = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    current: list[Any] = [schema]
    walked = ""
    for part in parts:
        nexts = [s for schema in current for s in _child(document, schema, part)]
        if not nexts:
            fields = sorted({f for s in current for f in _fields(document, s)})
            listed = ", ".join(fields) if fields else "no fields"
            return f"{walked or 'the body'} has no field {part!r} (it has: {listed})"
        if any(n is True for n in nexts):
            return None  # an open object or untyped value: anything may be under it
        current, walked = nexts, f"{walked}/{part}"
    return None


def _branches(document: dict[str, Any], schema: Any) -> list[Any]:
    """``schema`` with its $refs resolved and its allOf/oneOf/anyOf spread into branches."""
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 32:
        schema = _deref(document, schema["$ref"])
        seen += 1
    if not isinstance(schema, dict):
        return [schema]
    spread = [schema]
    for key in COMBINATORS:
        for part in schema.get(key) or ():
            spread += _branches(document, part)
    return spread


def _child(document: dict[str, Any], schema: Any, part: str) -> list[Any]:
    found: list[Any] = []
    branches = _branches(document, schema)
    if not any(isinstance(b, dict) and ("properties" in b or "items" in b) for b in branches):
        return [True]  # nothing said about its fields: not checkable
    for branch in (b for b in branches if isinstance(b, dict)):
        if part in (branch.get("properties") or {}):
            found.append(branch["properties"][part])
        elif (part.isdigit() or part == "-") and "items" in branch:
            found.append(branch["items"])
        elif "properties" in branch and branch.get("additionalProperties") not in (None, False):
            found.append(True)
    return found


def _fields(document: dict[str, Any], schema: Any) -> list[str]:
    return [
        name
        for branch in _branches(document, schema)
        if isinstance(branch, dict)
        for name in branch.get("properties") or {}
    ]


def _deref(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node
