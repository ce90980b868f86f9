"""Bundling: a portal document with every external ``$ref`` made local.

The source documents are split: ``buyer.yaml`` and ``producer.yaml`` reference the shared
``components.yaml`` as ``components.yaml#/components/schemas/X``. :func:`bundle` copies each
referenced component into the portal document and rewrites the ref to ``#/components/...``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lotflow.errors import SpecError
from lotflow.openapi.loading import load_yaml, plain
from lotflow.openapi.refs import lookup, ref_holders
from lotflow.pointers import pointer_tokens

__all__ = ["bundle"]

_COMPONENT_POINTER = re.compile(r"/components/[^/]+/[^/]+")


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
        for at, holder in ref_holders(node, where):
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
        found = lookup(self._load(wanted), wanted.pointer)
        if found is None:
            raise SpecError(
                f"$ref target {wanted.source.name}#{wanted.pointer} does not exist "
                f"(used at {wanted.used_at}).",
                wanted.source,
            )
        value = plain(found)
        self._localise(value, wanted.source, f"{wanted.source.name}#{wanted.pointer}")
        existing = lookup(self.doc, wanted.pointer)
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
        for at, holder in ref_holders(self.doc, f"{self.root.name}#"):
            ref = holder["$ref"]
            if not ref.startswith("#") or lookup(self.doc, ref[1:]) is None:
                raise SpecError(f"$ref {ref!r} at {at} does not resolve.", self.root)


def _place(doc: dict[str, Any], pointer: str, value: Any) -> None:
    *parents, name = pointer_tokens(pointer)
    node = doc
    for part in parents:
        node = node.setdefault(part, {})
    node[name] = value
