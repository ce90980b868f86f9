"""The one entry point for checks; `.ci/run` and the README run the same test command.

nox                              # lint, typecheck, tests, spec: what CI gates on
nox -s tests -- -k signing -x    # arguments after `--` go to pytest
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True  # sessions reinstall the project, not the world
nox.options.sessions = ["lint", "typecheck", "tests", "spec"]

PYTHON = "3.11"
SOURCES = ("src", "reference", "simulators", "tests", "benchmarks", "noxfile.py", "setup.py")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff: the lint rules and the formatting (checked, not rewritten)."""
    session.install("ruff>=0.17")
    session.run("ruff", "check", *SOURCES)
    session.run("ruff", "format", "--check", *SOURCES)


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy in strict mode on the whole installed package (settings in pyproject.toml).

    setup.py installs the top-level folders spec/, reference/ and scenarios/ as subpackages of
    lotflow, a mapping mypy cannot follow (it would see ``lotflow.reference`` imports as
    missing); so mypy reads a tree of symlinks laid out as the installed package is.
    """
    session.install("-e", ".[dev]")
    root = Path(__file__).parent.resolve()
    tree = Path(session.create_tmp()).resolve() / "typecheck"
    shutil.rmtree(tree, ignore_errors=True)
    package = tree / "lotflow"
    package.mkdir(parents=True)
    for entry in (root / "src" / "lotflow").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for folder in ("spec", "reference", "scenarios", "simulators", "contracts"):
        (package / folder).symlink_to(root / folder)
    with session.chdir(tree):
        session.run("mypy", "--config-file", str(root / "pyproject.toml"), "-p", "lotflow")


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
        "python",
        "-m",
        "pytest",
        "-n",
        "auto",
        "tests/reference",
        "tests/core",
        "tests/model",
        *session.posargs,
    )


@nox.session(python=PYTHON)
def schedules(session: nox.Session) -> None:
    """N events under each fault schedule: committed, delivered, lost, duplicated effects."""
    session.install("-e", ".")
    session.run("python", "-m", "lotflow.explore.schedules", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Throughput of the reference buyer against a bare FastAPI endpoint, and deliveries/s."""
    session.install("-e", ".")
    session.run("python", "benchmarks/bench_buyer.py", *session.posargs)


@nox.session(python=PYTHON)
def faults(session: nox.Session) -> None:
    """Webhook delivery under the fault schedule (outage, 503, hangs, kill -9): prints committed,
    delivered, lost and duplicated-after-2xx counts and drain times."""
    session.install("-e", ".")
    session.run("python", "benchmarks/faults.py", *session.posargs)


@nox.session(python=PYTHON)
def bench_simulators(session: nox.Session) -> None:
    """Signed webhooks/s the buyer simulator sends to a local receiver, faults off and on."""
    session.install("-e", ".")
    session.run("python", "benchmarks/bench_simulators.py", *session.posargs)


@nox.session(python=PYTHON)
def bench_verify(session: nox.Session) -> None:
    """How long `lotflow verify buyer` takes against the reference buyer (default budget)."""
    session.install("-e", ".")
    session.run("python", "benchmarks/bench_verify.py", *session.posargs)


@nox.session(python=PYTHON)
def pacts(session: nox.Session) -> None:
    """Rewrite contracts/pacts/ from the consumer tests (then commit it); prints the counts."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "tests.contracts.generate", *session.posargs)


@nox.session(python=PYTHON)
def spec(session: nox.Session) -> None:
    """Check the contract (OpenAPI documents and workflow) and print its summary."""
    session.install("-e", ".")
    session.run("lotflow", "spec", "check")


@nox.session(python=PYTHON)
def matrix(session: nox.Session) -> None:
    """For every deliberate fault: do Schemathesis, Pact and `lotflow verify` catch it (a table)."""
    session.install("-e", ".[test]")
    session.run("python", "benchmarks/matrix.py", *session.posargs)
