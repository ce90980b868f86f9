"""Test-wide fixtures live in small plugin modules under tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.spec",
    "tests.fixtures.stack",
    "tests.fixtures.producer",
]


import os  # noqa: E402

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# Hypothesis profiles. "fast" is every run's: derandomized, so a run is reproducible and CI never
# flakes on a rare draw. "deep" is for `nox -s fuzz`: fresh random draws and many more examples.
settings.register_profile(
    "fast",
    max_examples=15,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
settings.register_profile(
    "deep",
    max_examples=400,
    derandomize=False,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests (marked ``anyio``) run on asyncio."""
    return "asyncio"
