"""JSON Schema validators (2020-12, formats on) compiled once per schema against a bundled
document, whose ``#/components/...`` refs they resolve."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

import jsonschema_rs

from lotflow.errors import SpecError
from lotflow.openapi.messages import field_errors
from lotflow.problems import FieldError

__all__ = ["Validator", "validator_for"]

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
            found += field_errors(error)
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
