"""pytest fixtures for teams that test their portal from Python.

Load with ``pytest -p lotflow.simulators.pytest_plugin`` (or list it in ``pytest_plugins``),
then point it at your portal::

    pytest -p lotflow.simulators.pytest_plugin --lotflow-producer-url http://localhost:3000 \\
        --lotflow-secret "$BUYER_WEBHOOK_SECRET" --lotflow-api-key "$BUYER_API_KEY"

``buyer_simulator`` plays the buyer against your producer portal (``--lotflow-producer-url``);
``producer_simulator`` plays the producer against your buyer portal (``--lotflow-buyer-url``).
Both live for the session; ``--lotflow-faults PLAN`` loads a fault plan, ``--lotflow-record DIR``
writes each simulator's HAR recording there at the end. Every option also reads an environment
variable (``LOTFLOW_PRODUCER_URL``, ``LOTFLOW_BUYER_URL``, ``LOTFLOW_SECRET``,
``LOTFLOW_API_KEY``, ``LOTFLOW_FAULTS``, ``LOTFLOW_RECORD``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lotflow.simulators.buyer import BuyerSimulator
from lotflow.simulators.faults import FaultPlan, load_fault_plan
from lotflow.simulators.producer import ProducerSimulator

OPTIONS = {
    "producer-url": ("LOTFLOW_PRODUCER_URL", "your producer portal's base URL (buyer_simulator)"),
    "buyer-url": ("LOTFLOW_BUYER_URL", "your buyer portal's base URL (producer_simulator)"),
    "secret": ("LOTFLOW_SECRET", "the shared webhook secret"),
    "api-key": ("LOTFLOW_API_KEY", "the API key the producer sends in X-API-Key"),
    "faults": ("LOTFLOW_FAULTS", "a fault plan (YAML) for both simulators"),
    "record": ("LOTFLOW_RECORD", "a folder for the HAR recordings"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lotflow", "lotflow simulators")
    for name, (env, help_text) in OPTIONS.items():
        group.addoption(f"--lotflow-{name}", default=None, help=f"{help_text} (env {env})")


def _option(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(f"--lotflow-{name}", default=None)
    return value or os.environ.get(OPTIONS[name][0]) or None


def _plan(config: pytest.Config) -> FaultPlan | None:
    path = _option(config, "faults")
    return load_fault_plan(path) if path else None


def _record(config: pytest.Config, role: str) -> Path | None:
    folder = _option(config, "record")
    return Path(folder) / f"{role}-simulator.har" if folder else None


def _needed(config: pytest.Config, option: str, fixture: str) -> str:
    url = _option(config, option)
    if not url:
        env = OPTIONS[option][0]
        raise pytest.UsageError(f"{fixture} needs --lotflow-{option} (or {env})")
    return url


def _shared(config: pytest.Config, role: str) -> dict[str, Any]:
    return {
        "secret": _option(config, "secret"),
        "api_key": _option(config, "api-key"),
        "plan": _plan(config),
        "record": _record(config, role),
    }


@pytest.fixture(scope="session")
def buyer_simulator(pytestconfig: pytest.Config) -> Iterator[BuyerSimulator]:
    """The buyer, simulated, sending webhooks to ``--lotflow-producer-url``."""
    url = _needed(pytestconfig, "producer-url", "buyer_simulator")
    with BuyerSimulator(url, **_shared(pytestconfig, "buyer")) as simulator:
        yield simulator


@pytest.fixture(scope="session")
def producer_simulator(pytestconfig: pytest.Config) -> Iterator[ProducerSimulator]:
    """The producer, simulated, calling ``--lotflow-buyer-url``."""
    url = _needed(pytestconfig, "buyer-url", "producer_simulator")
    with ProducerSimulator(url, **_shared(pytestconfig, "producer")) as simulator:
        yield simulator
