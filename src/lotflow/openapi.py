"""The spec as data: load, bundle, validate, index operations, compile schema validators.

The source documents are split (``components.yaml`` holds the schemas both portals share);
:func:`bundle` turns a portal document into one self-contained OpenAPI 3.1 document whose refs are
all local. That bundled document is what servers serve, Schemathesis loads and validators compile.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import jsonschema_rs
import yaml

from lotflow.errors import SpecError
from lotflow.problems import FieldError

Portal = Literal["buyer", "producer"]
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def spec_dir() -> Path:
    """The shipped ``spec/openapi`` folder."""
    return Path(str(files("lotflow.spec") / "openapi"))


def load_yaml(path: Path) -> Any:
    """Read a YAML file; a missing or malformed file is a ``SpecError`` naming path and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"Cannot read spec file {path}: {exc.strerror}.") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise SpecError(f"{path} is not valid YAML{where}: {reason}.") from exc


def bundle(path: Path) -> dict[str, Any]:
    """Load ``path`` and inline every external ``$ref`` target as a local component."""
    root = path.resolve()
    doc = copy.deepcopy(load_yaml(root))
    if not isinstance(doc, dict):
        raise SpecError(f"{root}: expected an OpenAPI document (a mapping) at the top.")
    _Bundler(root, doc).run()
    return doc


@dataclass
class _Bundler:
    root: Path
    doc: dict[str, Any]
    pending: list[tuple[Path, str, str]] = field(default_factory=list)
    done: set[tuple[Path, str]] = field(default_factory=set)

    def run(self) -> None:
        self._rewrite(self.doc, self.root, "#")
        while self.pending:
            source, pointer, used_at = self.pending.pop()
            if (source, pointer) not in self.done:
                self.done.add((source, pointer))
                self._copy(source, pointer, used_at)
        for where, node in _refs(self.doc, "#"):
            ref = node["$ref"]
            if not ref.startswith("#") or _lookup(self.doc, ref[1:]) is None:
                raise SpecError(f"{self.root}: $ref {ref!r} at {where} does not resolve.")

    def _rewrite(self, node: Any, source: Path, where: str) -> None:
        for at, holder in _refs(node, where):
            file_part, _, pointer = holder["$ref"].partition("#")
            target = (source.parent / file_part).resolve() if file_part else source
            if target != self.root:
                self.pending.append((target, pointer, f"{source.name} {at}"))
            holder["$ref"] = "#" + pointer

    def _copy(self, source: Path, pointer: str, used_at: str) -> None:
        target = _lookup(_load_cached(source), pointer)
        if target is None:
            raise SpecError(f"$ref '{source.name}#{pointer}' used at {used_at} does not resolve.")
        value = copy.deepcopy(target)
        self._rewrite(value, source, "#" + pointer)
        existing = _lookup(self.doc, pointer)
        if existing is not None and existing != value:
            raise SpecError(f"{self.root}: '{pointer}' is defined locally and in {source.name}, differently.")
        _place(self.doc, pointer, value)


@cache
def _load_cached(path: Path) -> Any:
    return load_yaml(path)


def _refs(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (readable location, the mapping holding it) for every ``$ref`` under ``node``."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield where, node
        for key, value in node.items():
            yield from _refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _refs(value, f"{where}/{index}")


def _parts(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.strip("/").split("/") if p]


def _lookup(doc: Any, pointer: str) -> Any:
    node = doc
    for part in _parts(pointer):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def _place(doc: dict[str, Any], pointer: str, value: Any) -> None:
    *parents, last = _parts(pointer)
    node = doc
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


@cache
def _load_portal(path: Path) -> dict[str, Any]:
    return bundle(path)


def load_portal_spec(portal: Portal, root: Path | None = None) -> dict[str, Any]:
    """The bundled document of one portal (cached per file). Treat it as read-only."""
    return _load_portal(((root or spec_dir()) / f"{portal}.yaml").resolve())


def validate_spec(doc: dict[str, Any]) -> list[str]:
    """Readable OpenAPI 3.1 validation problems of a bundled document (empty when valid)."""
    from openapi_spec_validator import OpenAPIV31SpecValidator

    problems = []
    for error in OpenAPIV31SpecValidator(doc).iter_errors():
        location = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        problems.append(f"{location}: {error.message}")
    return problems


@dataclass(frozen=True)
class Operation:
    """One operation of a document, with path-level parameters merged in."""

    operation_id: str
    method: str
    path: str
    summary: str
    parameters: tuple[dict[str, Any], ...]
    request_schema: dict[str, Any] | None
    request_required: bool
    responses: dict[str, Any]
    security: tuple[dict[str, Any], ...]
    tags: tuple[str, ...]
    extensions: dict[str, Any]


def operations(spec: dict[str, Any]) -> dict[str, Operation]:
    """Every operation under ``paths``, keyed by operationId, in document order."""
    found: dict[str, Operation] = {}
    for path, item in (spec.get("paths") or {}).items():
        for method in HTTP_METHODS:
            if method in item and item[method].get("operationId"):
                op = _operation(spec, path, method, item)
                found[op.operation_id] = op
    return found


def _operation(spec: dict[str, Any], path: str, method: str, item: dict[str, Any]) -> Operation:
    raw = item[method]
    merged = {(p.get("in"), p.get("name")): p for p in item.get("parameters", [])}
    merged.update({(p.get("in"), p.get("name")): p for p in raw.get("parameters", [])})
    body = raw.get("requestBody") or {}
    schema = (body.get("content") or {}).get("application/json", {}).get("schema")
    return Operation(
        operation_id=raw["operationId"],
        method=method,
        path=path,
        summary=raw.get("summary", ""),
        parameters=tuple(merged.values()),
        request_schema=schema,
        request_required=bool(body.get("required")),
        responses=raw.get("responses") or {},
        security=tuple(raw.get("security", spec.get("security", []))),
        tags=tuple(raw.get("tags", ())),
        extensions={k: v for k, v in raw.items() if k.startswith("x-")},
    )


def webhooks(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``webhooks`` section: event name → path item."""
    return dict(spec.get("webhooks") or {})


class Validator:
    """A compiled JSON Schema (2020-12) check whose refs resolve against a bundled document."""

    def __init__(self, spec: dict[str, Any], schema: dict[str, Any]) -> None:
        root = {"components": spec.get("components", {}), **schema}
        self._compiled = jsonschema_rs.Draft202012Validator(root, validate_formats=True)

    def is_valid(self, instance: Any) -> bool:
        return bool(self._compiled.is_valid(instance))

    def errors(self, instance: Any) -> list[FieldError]:
        return [
            FieldError(_pointer(error.instance_path), error.message)
            for error in self._compiled.iter_errors(instance)
        ]


def _pointer(path: Any) -> str:
    return "".join(f"/{part}" for part in path)


_validators: dict[tuple[int, str], Validator] = {}


def validator_for(spec: dict[str, Any], schema: dict[str, Any]) -> Validator:
    """A compiled validator for ``schema`` within ``spec``, cached for the process."""
    key = (id(spec), repr(schema))
    found = _validators.get(key)
    if found is None:
        found = _validators[key] = Validator(spec, schema)
    return found
