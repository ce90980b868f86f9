"""Pact bodies from the spec: the schemas' own examples, turned into matchers by their schemas.

``example(spec, "Lot")`` is a component's first example (a fresh copy); ``composed`` fills the
members an example lacks from the examples of the components they reference (a bid event needs a
``contract``: it gets the Contract example). ``matching(spec, schema, value)`` turns such a value
into pact-python matchers, choosing each one from the schema at that place:

- a string with a ``pattern`` (ids, event ids): that regex; a date-time: an ISO-8601 regex;
  an ``enum``: any of its values; ``const``: that value;
- integers: any integer; numbers: any number; booleans: any boolean; other strings: any string;
- arrays: each element like the first (at least one); objects: member by member, leaving out
  every member the schema lets be null (a consumer cannot rely on its type, nor on its being
  null).

``exact`` names the JSON pointers that must equal the example (the status a consumer relies on),
``inject`` the pointers whose value the provider supplies from its provider state
(``{"/lotId": "${lotId}"}``): Pact's ``ProviderState`` generator, matched by the same rule.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pact import generate, match
from pact.match.matcher import AbstractMatcher, GenericMatcher

from lotflow.errors import SpecError
from lotflow.openapi import resolve

__all__ = ["DATE_TIME", "composed", "example", "matching", "path_from_state", "schema_named"]

DATE_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"


def schema_named(spec: dict[str, Any], name: str) -> dict[str, Any]:
    """The component schema ``name``, its ``$ref`` followed."""
    found: dict[str, Any] = resolve(spec, {"$ref": f"#/components/schemas/{name}"})
    return found


def example(spec: dict[str, Any], name: str, index: int = 0) -> Any:
    """A fresh copy of component ``name``'s example number ``index``."""
    examples = schema_named(spec, name).get("examples") or []
    if len(examples) <= index:
        raise SpecError(f"Schema {name} has no example number {index}; every schema needs one.")
    return copy.deepcopy(examples[index])


def composed(spec: dict[str, Any], name: str, *members: str, **values: Any) -> dict[str, Any]:
    """Component ``name``'s example with ``members`` added from the examples of the schemas
    they reference, and ``values`` set as given."""
    body: dict[str, Any] = example(spec, name)
    properties = schema_named(spec, name).get("properties", {})
    for member in members:
        ref = properties.get(member, {}).get("$ref", "")
        body[member] = example(spec, ref.rsplit("/", 1)[-1])
    return body | values


def path_from_state(example_path: str, template: str, regex: str) -> AbstractMatcher[Any]:
    """A request path the provider fills from its provider state (``template`` with
    ``${name}`` expressions), matched by ``regex``, recorded with ``example_path``."""
    return GenericMatcher(
        "regex", example_path, generator=generate.provider_state(template), regex=regex
    )


def matching(
    spec: dict[str, Any],
    schema: Mapping[str, Any],
    value: Any,
    *,
    exact: frozenset[str] = frozenset(),
    inject: Mapping[str, str] | None = None,
) -> Any:
    """``value`` as matchers by ``schema`` (see the module docstring)."""
    return _Matching(spec, exact, dict(inject or {})).at("", schema, value)


class _Matching:
    def __init__(self, spec: dict[str, Any], exact: frozenset[str], inject: dict[str, str]):
        self.spec, self.exact, self.inject = spec, exact, inject

    def at(self, pointer: str, schema: Any, value: Any) -> Any:
        schema = self._narrow(resolve(self.spec, schema), value)
        if pointer in self.exact:
            return value
        if pointer in self.inject:
            return self._injected(pointer, schema, value)
        if isinstance(value, dict):
            properties = schema.get("properties", {})
            return {
                key: self.at(f"{pointer}/{key}", properties.get(key, {}), item)
                for key, item in value.items()
                if self._kept(f"{pointer}/{key}", properties.get(key, {}), item)
            }
        if isinstance(value, list):
            if not value:
                return value
            return match.each_like(self.at(f"{pointer}/0", schema.get("items", {}), value[0]))
        return _leaf(schema, value)

    def _kept(self, pointer: str, schema: Any, value: Any) -> bool:
        """Whether a member is expected: not when it may be null (unless pinned or injected)."""
        if pointer in self.exact or pointer in self.inject:
            return True
        return value is not None and not _nullable(resolve(self.spec, schema), self.spec)

    def _narrow(self, schema: Any, value: Any) -> Any:
        """The branch of a ``oneOf``/``anyOf`` that ``value`` takes (the non-null one)."""
        branches = schema.get("oneOf") or schema.get("anyOf") if isinstance(schema, dict) else None
        if not branches:
            return schema if isinstance(schema, dict) else {}
        for branch in branches:
            branch = resolve(self.spec, branch)
            if (branch.get("type") == "null") == (value is None):
                return branch
        return resolve(self.spec, branches[0])

    def _injected(self, pointer: str, schema: dict[str, Any], value: Any) -> Any:
        template = self.inject[pointer]
        if "pattern" in schema:
            return GenericMatcher(
                "regex",
                value,
                generator=generate.provider_state(template),
                regex=schema["pattern"],
            )
        return GenericMatcher("type", value, generator=generate.provider_state(template))


def _nullable(schema: Any, spec: dict[str, Any]) -> bool:
    if not isinstance(schema, dict):
        return False
    kinds = schema.get("type")
    if kinds == "null" or (isinstance(kinds, list) and "null" in kinds):
        return True
    branches = schema.get("oneOf") or schema.get("anyOf") or []
    return any(_nullable(resolve(spec, branch), spec) for branch in branches)


def _leaf(schema: dict[str, Any], value: Any) -> Any:
    if "const" in schema:
        return value
    if isinstance(value, bool):
        return match.bool(value)
    if isinstance(value, int) and schema.get("type") == "integer":
        return match.int(value)
    if isinstance(value, int | float):
        return match.number(value)
    if not isinstance(value, str):
        return value
    if "enum" in schema:
        alternatives = "|".join(_escaped(str(option)) for option in schema["enum"])
        return match.regex(value, regex=f"^({alternatives})$")
    if "pattern" in schema:
        return match.regex(value, regex=schema["pattern"])
    if schema.get("format") == "date-time":
        return match.regex(value, regex=DATE_TIME)
    return match.str(value)


def _escaped(text: str) -> str:
    return "".join("\\" + c if c in r".^$*+?{}[]\|()" else c for c in text)
