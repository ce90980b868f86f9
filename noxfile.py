"""The one entry point for checks; `.ci/run` and the README run the same test command.

nox                              # lint, typecheck, tests, spec: what CI gates on
nox -s tests -- -k signing -x    # arguments after `--` go to pytest
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True  # sessions reinstall the project, not the world
nox.options.sessions = ["lint", "typecheck", "tests", "spec"]

PYTHON = "3.11"
SOURCES = ("src", "reference", "tests", "noxfile.py", "setup.py")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff: the lint rules and the formatting (checked, not rewritten)."""
    session.install("ruff>=0.17")
    session.run("ruff", "check", *SOURCES)
    session.run("ruff", "format", "--check", *SOURCES)


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy in strict mode on the package (settings in pyproject.toml)."""
    session.install("-e", ".[dev]")
    session.run("mypy", "src/lotflow")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The test suite on every core (pytest-xdist), as in `.ci/run` and the README."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-n", "auto", *session.posargs)


@nox.session(python=PYTHON)
def fuzz(session: nox.Session) -> None:
    """Deep fuzzing: Schemathesis and the property tests with fresh random draws, many examples."""
    session.install("-e", ".[test]")
    session.env["HYPOTHESIS_PROFILE"] = "deep"
    session.run(
        "python", "-m", "pytest", "-n", "auto", "tests/reference", "tests/core", *session.posargs
    )


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Throughput of the reference buyer against a bare FastAPI endpoint, and deliveries/s."""
    session.install("-e", ".")
    session.run("python", "benchmarks/bench_buyer.py", *session.posargs)


@nox.session(python=PYTHON)
def spec(session: nox.Session) -> None:
    """Check the contract (OpenAPI documents and workflow) and print its summary."""
    session.install("-e", ".")
    session.run("lotflow", "spec", "check")
