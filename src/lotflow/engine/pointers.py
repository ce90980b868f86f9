"""JSON pointers (RFC 6901) into response and webhook bodies, and JSON-faithful equality."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final


class _Missing:
    """The value at a pointer that leads nowhere (distinct from JSON ``null``)."""

    def __repr__(self) -> str:
        return "nothing"


MISSING: Final = _Missing()


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value at ``pointer`` in ``document`` or :data:`MISSING`; ``""`` is the whole of it."""
    node = document
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node


def same_json(left: Any, right: Any) -> bool:
    """Equality as JSON means it: ``1 == 1.0`` but ``true != 1``, recursively."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(same_json(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(same_json, left, right))
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    return type(left) is type(right) and bool(left == right)


def show(value: Any, limit: int = 200) -> str:
    """A short, readable rendering of a JSON value for messages (``nothing`` when missing)."""
    if value is MISSING:
        return "nothing"
    text = (
        json.dumps(value, ensure_ascii=False, default=str)
        if not isinstance(value, str)
        else repr(value)
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"
