"""Reading the spec's YAML files: the shipped folder, and a file as plain JSON data."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from lotflow.yamlsource import read_yaml

__all__ = ["load_yaml", "plain", "spec_dir"]


def spec_dir() -> Path:
    """The shipped ``spec/openapi`` folder (``lotflow.spec`` package data)."""
    return Path(str(files("lotflow.spec") / "openapi"))


def load_yaml(path: Path) -> Any:
    """Read a YAML file as JSON-compatible data (the one loader, :mod:`lotflow.yamlsource`); a
    missing or malformed file, or a key written twice, is a ``SpecError`` naming the path (and
    the line and column)."""
    return plain(read_yaml(path, "spec file"))


def plain(value: Any) -> Any:
    """A fresh copy: no YAML aliases shared between places (bundling rewrites refs in place)."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
