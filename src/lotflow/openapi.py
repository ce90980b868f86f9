"""The spec as data: load and bundle the OpenAPI documents, index their operations, and compile
JSON Schema validators against them.

The source documents are split: ``buyer.yaml`` and ``producer.yaml`` reference the shared
``components.yaml`` as ``components.yaml#/components/schemas/X``. :func:`bundle` turns a portal
document into one self-contained OpenAPI 3.1 document whose refs are all local
(``#/components/schemas/X``): that bundled document is what servers serve, Schemathesis loads and
validators compile. Bundled documents are plain JSON data (timestamps stay strings, keys are
strings, no shared sub-objects); treat the cached ones as read-only.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import jsonschema_rs
import yaml

from lotflow.errors import SpecError
from lotflow.problems import FieldError

__all__ = [
    "HTTP_METHODS",
    "Operation",
    "Portal",
    "Validator",
    "bundle",
    "load_portal_spec",
    "load_yaml",
    "operations",
    "resolve",
    "spec_dir",
    "validate_spec",
    "validator_for",
    "webhooks",
]

Portal = Literal["buyer", "producer"]
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_COMPONENT_POINTER = re.compile(r"/components/[^/]+/[^/]+")
_MAX_REF_DEPTH = 32


# ---------------------------------------------------------------------------------- loading


class _SpecLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML, except that timestamps stay strings (a spec is JSON data, not Python)."""


_SpecLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def spec_dir() -> Path:
    """The shipped ``spec/openapi`` folder (``lotflow.spec`` package data)."""
    return Path(str(files("lotflow.spec") / "openapi"))


def load_yaml(path: Path) -> Any:
    """Read a YAML file as JSON-compatible data; a missing or malformed file is a
    ``SpecError`` naming the path (and the line and column for a syntax error)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"Cannot read spec file {path}: {exc}.", path) from exc
    try:
        data = yaml.load(text, Loader=_SpecLoader)  # noqa: S506 - _SpecLoader is a SafeLoader
    except yaml.YAMLError as exc:
        raise SpecError(f"{path} is not valid YAML{_yaml_position(exc)}.", path) from exc
    return _plain(data)


def _yaml_position(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None)
    return f"{where}: {problem}" if problem else where


def _plain(value: Any) -> Any:
    """A fresh copy with string keys: no YAML aliases shared between places."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


# ---------------------------------------------------------------------------------- bundling


def bundle(path: Path) -> dict[str, Any]:
    """The document at ``path`` with every external ``$ref`` made local (see module docstring).

    Raises ``SpecError`` for unreadable files, a ref that does not resolve (naming the file, the
    ref and where it is used), a ref outside ``#/components/<section>/<name>``, and a component
    name that two files define differently.
    """
    root = path.resolve()
    doc = load_yaml(root)
    if not isinstance(doc, dict):
        raise SpecError(f"{root}: expected an OpenAPI document (a mapping) at the top.", root)
    _Bundler(root, doc).run()
    return doc


@dataclass(frozen=True)
class _Wanted:
    """A component to copy in: ``pointer`` in ``source``, first needed at ``used_at``."""

    source: Path
    pointer: str
    used_at: str


class _Bundler:
    def __init__(self, root: Path, doc: dict[str, Any]) -> None:
        self.root = root
        self.doc = doc
        self.loaded: dict[Path, Any] = {root: doc}
        self.queue: list[_Wanted] = []
        self.copied: set[tuple[Path, str]] = set()

    def run(self) -> None:
        self._localise(self.doc, self.root, f"{self.root.name}#")
        while self.queue:
            wanted = self.queue.pop()
            if (wanted.source, wanted.pointer) not in self.copied:
                self.copied.add((wanted.source, wanted.pointer))
                self._copy(wanted)
        self._check_local_refs()

    def _localise(self, node: Any, source: Path, where: str) -> None:
        """Rewrite refs under ``node`` (read from ``source``) to local ones, queueing targets."""
        for at, holder in _ref_holders(node, where):
            file_part, _, pointer = holder["$ref"].partition("#")
            target = (source.parent / file_part).resolve() if file_part else source
            if target == self.root:
                holder["$ref"] = "#" + pointer
                continue
            if not _COMPONENT_POINTER.fullmatch(pointer):
                raise SpecError(
                    f"$ref {holder['$ref']!r} at {at} points outside "
                    "#/components/<section>/<name>; only components can be bundled.",
                    source,
                )
            self.queue.append(_Wanted(target, pointer, f"{at} ($ref {holder['$ref']!r})"))
            holder["$ref"] = "#" + pointer

    def _copy(self, wanted: _Wanted) -> None:
        found = _lookup(self._load(wanted), wanted.pointer)
        if found is None:
            raise SpecError(
                f"$ref target {wanted.source.name}#{wanted.pointer} does not exist "
                f"(used at {wanted.used_at}).",
                wanted.source,
            )
        value = _plain(found)
        self._localise(value, wanted.source, f"{wanted.source.name}#{wanted.pointer}")
        existing = _lookup(self.doc, wanted.pointer)
        if existing is None:
            _place(self.doc, wanted.pointer, value)
        elif existing != value:
            raise SpecError(
                f"{self.root.name}: component {wanted.pointer} is defined differently in "
                f"{self.root.name} and in {wanted.source.name}; rename one of them.",
                self.root,
            )

    def _load(self, wanted: _Wanted) -> Any:
        if wanted.source not in self.loaded:
            if not wanted.source.is_file():
                raise SpecError(
                    f"$ref to missing file {wanted.source} (used at {wanted.used_at}).",
                    wanted.source,
                )
            self.loaded[wanted.source] = load_yaml(wanted.source)
        return self.loaded[wanted.source]

    def _check_local_refs(self) -> None:
        for at, holder in _ref_holders(self.doc, f"{self.root.name}#"):
            ref = holder["$ref"]
            if not ref.startswith("#") or _lookup(self.doc, ref[1:]) is None:
                raise SpecError(f"$ref {ref!r} at {at} does not resolve.", self.root)


def _ref_holders(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every mapping under ``node`` holding a string ``$ref``, with a readable location."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield where, node
        for key, value in node.items():
            yield from _ref_holders(value, f"{where}/{_escape(key)}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _ref_holders(value, f"{where}/{index}")


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _parts(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]


def _lookup(doc: Any, pointer: str) -> Any:
    """The node at a JSON pointer (``/a/b``, or ``""`` for the whole document), or ``None``."""
    node = doc
    for part in _parts(pointer) if pointer else []:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _place(doc: dict[str, Any], pointer: str, value: Any) -> None:
    *parents, name = _parts(pointer)
    node = doc
    for part in parents:
        node = node.setdefault(part, {})
    node[name] = value


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """``node`` with its local ``$ref`` chain followed (a parameter, response, schema, ...)."""
    for _ in range(_MAX_REF_DEPTH):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not isinstance(ref, str):
            return node
        target = _lookup(spec, ref[1:]) if ref.startswith("#") else None
        if target is None:
            raise SpecError(f"$ref {ref!r} does not resolve in the bundled document.")
        node = target
    raise SpecError(f"$ref chain longer than {_MAX_REF_DEPTH} steps (a cycle?) at {node!r:.80}.")


# ---------------------------------------------------------------------------------- documents


@lru_cache(maxsize=32)
def _bundled(path: Path) -> dict[str, Any]:
    return bundle(path)


def load_portal_spec(portal: Portal, root: Path | None = None) -> dict[str, Any]:
    """The bundled document of one portal from ``root`` (default: the shipped ``spec/openapi``),
    cached per file: callers share it and must not change it."""
    return _bundled(((root or spec_dir()) / f"{portal}.yaml").resolve())


def validate_spec(doc: dict[str, Any]) -> list[str]:
    """Readable OpenAPI 3.1 problems of a (bundled) document; empty when it is valid."""
    from openapi_spec_validator import OpenAPIV31SpecValidator

    problems = []
    for error in OpenAPIV31SpecValidator(doc).iter_errors():
        path = "/".join(str(part) for part in getattr(error, "absolute_path", ()))
        message = str(getattr(error, "message", error))
        problems.append(f"{path or '(top level)'}: {_shorten(message, 300)}")
    return problems


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Operation:
    """One operation of a document; path-level parameters are merged into ``parameters``,
    ``$ref``'d parameters, request bodies and responses are resolved (schemas stay refs)."""

    operation_id: str
    method: str
    path: str
    summary: str
    parameters: list[dict[str, Any]]
    request_schema: dict[str, Any] | None
    request_required: bool
    responses: dict[str, dict[str, Any]]
    security: list[dict[str, Any]]
    tags: list[str]
    extensions: dict[str, Any]


def operations(spec: dict[str, Any]) -> dict[str, Operation]:
    """Every operation under ``paths`` with an operationId, keyed by it, in document order."""
    found: dict[str, Operation] = {}
    for path, item in (spec.get("paths") or {}).items():
        item = resolve(spec, item)
        for method in HTTP_METHODS:
            raw = item.get(method)
            if isinstance(raw, dict) and raw.get("operationId"):
                found[raw["operationId"]] = _operation(spec, path, method, item, raw)
    return found


def _operation(
    spec: dict[str, Any], path: str, method: str, item: dict[str, Any], raw: dict[str, Any]
) -> Operation:
    body = resolve(spec, raw.get("requestBody") or {})
    json_body = (body.get("content") or {}).get("application/json") or {}
    return Operation(
        operation_id=raw["operationId"],
        method=method,
        path=path,
        summary=raw.get("summary", ""),
        parameters=_merged_parameters(spec, item, raw),
        request_schema=json_body.get("schema") if json_body else None,
        request_required=bool(body.get("required")),
        responses={str(s): resolve(spec, r) for s, r in (raw.get("responses") or {}).items()},
        security=list(raw["security"] if "security" in raw else spec.get("security") or []),
        tags=list(raw.get("tags") or []),
        extensions={k: v for k, v in raw.items() if k.startswith("x-")},
    )


def _merged_parameters(
    spec: dict[str, Any], item: dict[str, Any], raw: dict[str, Any]
) -> list[dict[str, Any]]:
    """Path-item parameters overridden by operation parameters of the same (in, name)."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for parameter in [*item.get("parameters", []), *raw.get("parameters", [])]:
        parameter = resolve(spec, parameter)
        merged[(parameter.get("in", ""), parameter.get("name", ""))] = parameter
    return list(merged.values())


def webhooks(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The document's ``webhooks`` section: event name → path item."""
    return dict(spec.get("webhooks") or {})


# ---------------------------------------------------------------------------------- validators

_SPEC_URI = "urn:lotflow:bundled-spec"


class Validator:
    """A JSON Schema (2020-12, formats on) compiled once; its ``#/components/...`` refs
    resolve against the bundled document it was made for."""

    def __init__(self, spec: dict[str, Any], schema: dict[str, Any] | bool) -> None:
        try:
            self._compiled = jsonschema_rs.Draft202012Validator(
                _absolute_refs(schema),
                validate_formats=True,
                registry=_registry_for(spec),
                retriever=_refuse_remote,
            )
        except ValueError as exc:
            raise SpecError(f"Schema {json.dumps(schema)[:200]} does not compile: {exc}") from exc

    def is_valid(self, instance: Any) -> bool:
        """Whether ``instance`` satisfies the schema."""
        return self._compiled.is_valid(instance)

    def errors(self, instance: Any) -> list[FieldError]:
        """Every violation, each naming its field as a JSON pointer (``/volume/amount``)."""
        found: list[FieldError] = []
        for error in self._compiled.iter_errors(instance):
            found += _field_errors(error)
        return found


def _absolute_refs(schema: Any) -> Any:
    """A copy of ``schema`` whose local refs name the registered bundled document."""
    if isinstance(schema, dict):
        copied = {key: _absolute_refs(value) for key, value in schema.items()}
        ref = copied.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            copied["$ref"] = _SPEC_URI + ref
        return copied
    if isinstance(schema, list):
        return [_absolute_refs(item) for item in schema]
    return schema


def _refuse_remote(uri: str) -> Any:
    raise SpecError(f"Remote $ref {uri!r}: bundle the spec so that every ref is local.")


class _Cache:
    """A small LRU keyed by (id(spec), key) that keeps the spec alive, so an id is never reused."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[int, str], tuple[dict[str, Any], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, spec: dict[str, Any], key: str, make: Any) -> Any:
        slot = (id(spec), key)
        with self._lock:
            hit = self._items.get(slot)
            if hit is not None and hit[0] is spec:
                self._items.move_to_end(slot)
                return hit[1]
        value = make()
        with self._lock:
            self._items[slot] = (spec, value)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


_registries = _Cache(16)
_validators = _Cache(4096)


def _registry_for(spec: dict[str, Any]) -> jsonschema_rs.Registry:
    return _registries.get(  # type: ignore[no-any-return]
        spec,
        "",
        lambda: jsonschema_rs.Registry([(_SPEC_URI, spec)], draft=jsonschema_rs.Draft202012),
    )


def validator_for(spec: dict[str, Any], schema: dict[str, Any] | bool) -> Validator:
    """The compiled :class:`Validator` of ``schema`` within ``spec``, cached per
    (document identity, schema content)."""
    key = json.dumps(schema, sort_keys=True, default=str)
    return _validators.get(spec, key, lambda: Validator(spec, schema))  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------- messages


def _field_errors(error: jsonschema_rs.ValidationError) -> list[FieldError]:
    """One or more readable findings for one schema violation."""
    where = "".join(f"/{_escape(str(part))}" for part in error.instance_path)
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        return [FieldError(f"{where}/{_escape(kind.property)}", "is required")]
    if isinstance(
        kind,
        jsonschema_rs.ValidationErrorKind.AdditionalProperties
        | jsonschema_rs.ValidationErrorKind.UnevaluatedProperties,
    ):
        return [
            FieldError(f"{where}/{_escape(name)}", "is not allowed") for name in kind.unexpected
        ]
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.FalseSchema) and where:
        return [FieldError(where, "is not allowed")]
    return [FieldError(where, _message(error))]


def _message(error: jsonschema_rs.ValidationError) -> str:
    data = error.kind.as_dict()
    describe = _MESSAGES.get(error.kind.name)
    if describe is None:
        return _shorten(error.message, 200)
    return describe(data, error.instance)


def _type_message(data: dict[str, Any], instance: Any) -> str:
    return f"must be {' or '.join(sorted(data['types']))}, not {_json_type(instance)}"


def _json_type(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array"}
    names |= {dict: "object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _plural(count: int, noun: str, nouns: str | None = None) -> str:
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


_MESSAGES: dict[str, Callable[[dict[str, Any], Any], str]] = {
    "type": _type_message,
    "enum": lambda d, _: "must be one of " + ", ".join(json.dumps(o) for o in d["options"]),
    "const": lambda d, _: f"must be {json.dumps(d['expected_value'])}",
    "minimum": lambda d, _: f"must be at least {d['limit']}",
    "maximum": lambda d, _: f"must be at most {d['limit']}",
    "exclusiveMinimum": lambda d, _: f"must be greater than {d['limit']}",
    "exclusiveMaximum": lambda d, _: f"must be less than {d['limit']}",
    "multipleOf": lambda d, _: f"must be a multiple of {d['multiple_of']}",
    "minLength": lambda d, _: f"must be at least {_plural(d['limit'], 'character')} long",
    "maxLength": lambda d, _: f"must be at most {_plural(d['limit'], 'character')} long",
    "minItems": lambda d, _: f"must have at least {_plural(d['limit'], 'item')}",
    "maxItems": lambda d, _: f"must have at most {_plural(d['limit'], 'item')}",
    "minProperties": lambda d, _: (
        f"must have at least {_plural(d['limit'], 'property', 'properties')}"
    ),
    "maxProperties": lambda d, _: (
        f"must have at most {_plural(d['limit'], 'property', 'properties')}"
    ),
    "pattern": lambda d, _: f"must match the pattern {d['pattern']}",
    "format": lambda d, _: f"must be a valid {d['format']}",
    "uniqueItems": lambda _d, _i: "must not contain duplicate items",
    "anyOf": lambda _d, _i: "does not match any of the allowed forms",
    "oneOf": lambda _d, _i: "must match exactly one of the allowed forms",
    "not": lambda _d, _i: "matches a form that is not allowed",
    "falseSchema": lambda _d, _i: "is not allowed",
}
