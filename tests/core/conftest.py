"""Fixtures of the core tests: the small fixture spec under ``fixtures/`` (the shipped spec is
being written alongside; these tests must not depend on its details)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lotflow.openapi import bundle

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixture_dir() -> Path:
    """The folder holding the fixture documents (``portal.yaml``, ``components.yaml``, ...)."""
    return FIXTURES


@pytest.fixture
def portal_spec() -> dict[str, Any]:
    """A freshly bundled copy of the fixture portal document (safe to change)."""
    return bundle(FIXTURES / "portal.yaml")
