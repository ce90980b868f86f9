"""JSON pointers (RFC 6901): the one walker every layer uses (spec refs, response and webhook
bodies)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["MISSING", "escape_token", "pointer_tokens", "resolve_pointer"]


class _Missing:
    """The value at a pointer that leads nowhere (distinct from JSON ``null``)."""

    def __repr__(self) -> str:
        return "nothing"


MISSING: Final = _Missing()


def escape_token(token: str) -> str:
    """``token`` as one segment of a pointer (``~`` → ``~0``, ``/`` → ``~1``)."""
    return token.replace("~", "~0").replace("/", "~1")


def pointer_tokens(pointer: str) -> list[str]:
    """The unescaped segments of ``pointer`` (none for ``""``, the whole document)."""
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value at ``pointer`` in ``document`` or :data:`MISSING`; ``""`` is the whole of it."""
    node = document
    for part in pointer_tokens(pointer):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node
