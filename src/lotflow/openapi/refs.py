"""``$ref``s: following them in a bundled document, and finding them in a tree."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lotflow.errors import SpecError
from lotflow.pointers import MISSING, escape_token, resolve_pointer

__all__ = ["lookup", "ref_holders", "resolve"]

_MAX_REF_DEPTH = 32


def lookup(doc: Any, pointer: str) -> Any:
    """The node at a JSON pointer (``/a/b``, or ``""`` for the whole document), or ``None``
    when it leads nowhere (a spec holds no ``null`` a ref could point at)."""
    found = resolve_pointer(doc, pointer)
    return None if found is MISSING else found


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """``node`` with its local ``$ref`` chain followed (a parameter, response, schema, ...)."""
    for _ in range(_MAX_REF_DEPTH):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not isinstance(ref, str):
            return node
        target = lookup(spec, ref[1:]) if ref.startswith("#") else None
        if target is None:
            raise SpecError(f"$ref {ref!r} does not resolve in the bundled document.")
        node = target
    raise SpecError(f"$ref chain longer than {_MAX_REF_DEPTH} steps (a cycle?) at {node!r:.80}.")


def ref_holders(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every mapping under ``node`` holding a string ``$ref``, with a readable location."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield where, node
        for key, value in node.items():
            yield from ref_holders(value, f"{where}/{escape_token(key)}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from ref_holders(value, f"{where}/{index}")
