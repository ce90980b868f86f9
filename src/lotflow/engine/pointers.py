"""JSON pointers (RFC 6901) into response and webhook bodies (the core's walker,
:mod:`lotflow.pointers`), JSON-faithful equality, and values shown short."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lotflow.pointers import MISSING, resolve_pointer

__all__ = ["MISSING", "resolve_pointer", "same_json", "show"]


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
