"""Test-wide fixtures live in small plugin modules under tests/fixtures/."""

pytest_plugins = ["tests.fixtures.spec", "tests.fixtures.stack", "tests.fixtures.buyer", "tests.fixtures.producer"]


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests (marked ``anyio``) run on asyncio."""
    return "asyncio"
