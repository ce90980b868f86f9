"""The built-in checks: each module lists its checks in ``CHECKS``; :func:`builtin` collects
them in this order (the webhook and producer directions add their modules here)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lotflow.verify.registry import Check

__all__ = ["MODULES", "builtin"]

MODULES = (
    "auth",
    "errors",
    "fuzz",
    "bids",
    "reads",
    "workflow",
    "award",
    "webhooks",
    "retries",
    "receiver",
    "client",
)


def builtin() -> list[Check]:
    """Every built-in check, module by module."""
    found: list[Check] = []
    for name in MODULES:
        found += importlib.import_module(f"lotflow.verify.checks.{name}").CHECKS
    return found
