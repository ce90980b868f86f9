"""Fixtures for the engine's tests: scenario files on disk and the fake marketplace."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.engine.fakes import FakeMarketplace


@pytest.fixture
def market() -> Iterator[FakeMarketplace]:
    """Both fake portals, the tap between them, and the buyer's webhook dispatcher running."""
    with FakeMarketplace().running() as running:
        yield running


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write a scenario file into a temporary folder and return its path."""

    def writer(text: str, name: str = "story.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return writer
