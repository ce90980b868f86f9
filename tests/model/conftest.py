"""Fixtures of the model's tests: fresh in-process pairs under the test's tmp path, and the
budget of the default run (the `fast` profile's derandomized draws; `nox -s fuzz` runs the
`deep` profile's, with fresh draws and more examples)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lotflow.explore.explorer import Budget
from lotflow.explore.inprocess import InProcessPair

DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "deep"


@pytest.fixture
def budget() -> Budget:
    """A few seconds of exploration by default; minutes under the deep profile."""
    return Budget(examples=200, steps=50, seed=None) if DEEP else Budget(examples=15, steps=30)


@pytest.fixture
def make_pair(tmp_path: Path) -> Iterator[Callable[[], InProcessPair]]:
    """Makes a fresh pair of reference portals per call (each in a folder of its own)."""
    counter = itertools.count()
    made: list[InProcessPair] = []

    def make() -> InProcessPair:
        folder = tmp_path / f"pair-{next(counter)}"
        folder.mkdir()
        made.append(InProcessPair(folder))
        return made[-1]

    return make
