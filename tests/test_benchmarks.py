"""The benchmark scripts stay runnable: each imports (its imports resolve against today's
package) and parses ``--help`` without starting anything. Their figures are nox sessions' job."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = sorted(
    path
    for path in (Path(__file__).parent.parent / "benchmarks").glob("*.py")
    if path.name != "__init__.py"
)


def test_there_are_benchmarks() -> None:
    assert len(BENCHMARKS) >= 3


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda path: path.name)
def test_a_benchmark_script_imports(script: Path) -> None:
    spec = importlib.util.spec_from_file_location(f"benchmark_{script.stem}", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    sys.path.insert(0, str(script.parent))  # scripts import their shared helpers by name
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(script.parent))
        del sys.modules[spec.name]
    assert module.__doc__, f"{script.name} says what it measures"
