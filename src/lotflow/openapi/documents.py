"""The portal documents: bundled once per file and cached, and checked against OpenAPI 3.1."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from lotflow.openapi.bundling import bundle
from lotflow.openapi.loading import spec_dir
from lotflow.openapi.messages import shorten

__all__ = ["Portal", "load_portal_spec", "validate_spec"]

Portal = Literal["buyer", "producer"]


@lru_cache(maxsize=32)
def _bundled(path: Path) -> dict[str, Any]:
    return bundle(path)


def load_portal_spec(portal: Portal, root: Path | None = None) -> dict[str, Any]:
    """The bundled document of one portal from ``root`` (default: the shipped ``spec/openapi``),
    cached per file: callers share it and must not change it."""
    return _bundled(((root or spec_dir()) / f"{portal}.yaml").resolve())


def validate_spec(doc: dict[str, Any]) -> list[str]:
    """Readable OpenAPI 3.1 problems of a (bundled) document; empty when it is valid."""
    from openapi_spec_validator import OpenAPIV31SpecValidator

    problems = []
    for error in OpenAPIV31SpecValidator(doc).iter_errors():
        path = "/".join(str(part) for part in getattr(error, "absolute_path", ()))
        message = str(getattr(error, "message", error))
        problems.append(f"{path or '(top level)'}: {shorten(message, 300)}")
    return problems
