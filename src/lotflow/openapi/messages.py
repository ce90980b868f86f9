"""Readable findings for JSON Schema violations: the field as a JSON pointer, and a sentence."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema_rs

from lotflow.pointers import escape_token
from lotflow.problems import FieldError

__all__ = ["field_errors", "shorten"]


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (an ellipsis marks the cut)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def field_errors(error: jsonschema_rs.ValidationError) -> list[FieldError]:
    """One or more readable findings for one schema violation."""
    where = "".join(f"/{escape_token(str(part))}" for part in error.instance_path)
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        return [FieldError(f"{where}/{escape_token(kind.property)}", "is required")]
    if isinstance(
        kind,
        jsonschema_rs.ValidationErrorKind.AdditionalProperties
        | jsonschema_rs.ValidationErrorKind.UnevaluatedProperties,
    ):
        return [
            FieldError(f"{where}/{escape_token(name)}", "is not allowed")
            for name in kind.unexpected
        ]
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.FalseSchema) and where:
        return [FieldError(where, "is not allowed")]
    return [FieldError(where, _message(error))]


def _message(error: jsonschema_rs.ValidationError) -> str:
    data = error.kind.as_dict()
    describe = _MESSAGES.get(error.kind.name)
    if describe is None:
        return shorten(error.message, 200)
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
