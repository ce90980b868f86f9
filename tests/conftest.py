"""Test-wide fixtures live in small plugin modules under tests/fixtures/."""

pytest_plugins = ["tests.fixtures.spec", "tests.fixtures.stack"]
