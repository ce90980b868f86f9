"""The one entry point for checks; `.ci/run` and the README use the same commands.

    nox -s lint typecheck tests spec     # what CI gates on
    nox -s bench                          # throughput figures (prints a table; not a test)
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "tests", "spec"]

PYTHON = "3.11"


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff>=0.17")
    session.run("ruff", "check", "src", "reference", "tests")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy, strict, on the package."""
    session.install("-e", ".[dev]")
    session.run("mypy", "src/lotflow")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The default test run (pytest-xdist), the same as the README's test command."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-n", "auto", *session.posargs)


@nox.session(python=PYTHON)
def spec(session: nox.Session) -> None:
    """Check the contract and print its summary."""
    session.install("-e", ".")
    session.run("lotflow", "spec", "check")
