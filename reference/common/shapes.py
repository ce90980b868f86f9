"""What the reference portals read from the spec's schemas instead of restating them: the
members of a component schema, which of them are optional, and a schema's bounds."""

from __future__ import annotations

from functools import cache
from typing import Any

from lotflow.openapi import Portal, load_portal_spec, resolve

__all__ = ["bound", "members", "optional_members", "schema"]


@cache
def schema(portal: Portal, name: str) -> dict[str, Any]:
    """The component schema ``name`` of ``portal``'s bundled document, its ``$ref`` followed."""
    spec = load_portal_spec(portal)
    found: dict[str, Any] = resolve(spec, {"$ref": f"#/components/schemas/{name}"})
    return found


def members(portal: Portal, name: str) -> tuple[str, ...]:
    """The properties the schema declares, in the spec's order."""
    return tuple(schema(portal, name).get("properties", {}))


def optional_members(portal: Portal, name: str) -> tuple[str, ...]:
    """The properties the schema declares but does not require, in the spec's order."""
    required = set(schema(portal, name).get("required", ()))
    return tuple(member for member in members(portal, name) if member not in required)


def bound(portal: Portal, name: str, keyword: str) -> Any:
    """A keyword of the schema (``maximum``, ``maxLength``, ...), which the schema must have."""
    return schema(portal, name)[keyword]
