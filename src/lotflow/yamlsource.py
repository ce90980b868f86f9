"""The one YAML loader (specs, the workflow, scenarios): it remembers where every value came
from, so errors can name a line.

The loader is a safe loader (libyaml's when installed) with three changes: mapping keys stay the
text that was written (``on:`` is the key ``"on"``, not ``True``), a key written twice in one
mapping is an error (plain YAML silently keeps the last), and timestamps stay strings (an
unquoted ``2026-05-01`` is sent as written, not turned into a date object): YAML read here is
JSON data.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError

from lotflow.errors import SpecError

__all__ = ["Path_", "Positions", "parse_yaml", "read_yaml", "yaml_position"]

Path_ = tuple[str | int, ...]


@dataclass
class Positions:
    """1-based line numbers by location (a tuple of keys and indexes from the document root)."""

    values: dict[Path_, int] = field(default_factory=dict)
    keys: dict[Path_, int] = field(default_factory=dict)

    def line(self, location: Path_) -> int:
        """The line of the value at ``location`` (or of its closest known ancestor)."""
        for end in range(len(location), -1, -1):
            if location[:end] in self.values:
                return self.values[location[:end]]
        return 1

    def key_line(self, location: Path_) -> int:
        """The line of the key that ends ``location`` (falls back to the value's line)."""
        return self.keys.get(location) or self.line(location)


_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc,valid-type]
    """A safe loader with text keys, duplicate-key errors and timestamps kept as strings."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        _refuse_duplicates(node)
        self.flatten_mapping(node)
        mapping: dict[Hashable, Any] = {}
        for key_node, value_node in node.value:
            mapping[_key_text(key_node)] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_timestamp_text(self, node: yaml.ScalarNode) -> str:
        """A timestamp stays the text that was written."""
        return str(self.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_timestamp_text)


def _key_text(node: yaml.Node) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise ConstructorError(
            None, None, "a mapping key must be plain text, not a list or mapping", node.start_mark
        )
    return str(node.value)


def _refuse_duplicates(node: yaml.MappingNode) -> None:
    first: dict[str, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
            continue
        line = key_node.start_mark.line + 1
        if key_node.value in first:
            raise ConstructorError(
                None,
                None,
                f"the key {key_node.value!r} appears twice in one mapping "
                f"(first on line {first[key_node.value]}); keep one",
                key_node.start_mark,
            )
        first[key_node.value] = line


def parse_yaml(text: str) -> tuple[Any, Positions]:
    """The document in ``text`` and the positions of its values.

    Raises ``yaml.YAMLError`` (with ``problem_mark``) for bad syntax or a duplicate key.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    positions = Positions()
    if node is not None:
        _index(node, (), positions, frozenset())
    return data, positions


def _index(node: yaml.Node, location: Path_, positions: Positions, above: frozenset[int]) -> None:
    positions.values.setdefault(location, node.start_mark.line + 1)
    if id(node) in above:  # a recursive alias: its lines are already known
        return
    above |= {id(node)}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*location, str(key_node.value))
            positions.keys.setdefault(child, key_node.start_mark.line + 1)
            _index(value_node, child, positions, above)
    elif isinstance(node, yaml.SequenceNode):
        for number, item in enumerate(node.value):
            _index(item, (*location, number), positions, above)


def yaml_position(exc: yaml.YAMLError) -> str:
    """`` at line L, column C: problem`` for an error that knows where it is (else what it
    knows of that)."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None)
    return f"{where}: {problem}" if problem else where


def read_yaml(path: Path, what: str = "YAML file") -> Any:
    """The document in the file at ``path``; ``SpecError`` naming the file (``what`` says what
    it is: "spec file", "workflow file") when it cannot be read, and its line and column when
    it is not valid YAML or writes a key twice."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise SpecError(f"Cannot read {what} {path}: {reason}.", path) from exc
    try:
        data, _positions = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"{path} is not valid YAML{yaml_position(exc)}.", path) from exc
    return data
