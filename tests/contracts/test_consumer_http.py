"""Consumer tests of the HTTP pact: the reference producer's real code against Pact's mock server.

Each scenario drives the producer through its operator API (or, for reads no operation makes
yet, through the producer's own buyer client); the mock server fails the test when the producer
sends a request the pact does not declare, or leaves a declared one unsent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lotflow.pact.names import HTTP_PROVIDER, pact_file
from tests.contracts.http_pact import SCENARIOS, Scenario, run_scenario


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_the_producer_keeps_the_pact(scenario: Scenario, tmp_path: Path) -> None:
    run_scenario(scenario, tmp_path, tmp_path / "pacts")
    written = json.loads(pact_file(tmp_path / "pacts", HTTP_PROVIDER).read_text())
    assert {i["description"] for i in written["interactions"]} == scenario.descriptions


def test_a_request_the_pact_does_not_declare_fails_the_consumer_test(tmp_path: Path) -> None:
    """The mock server is the check: a producer that reads a lot where the pact declares a list
    fails, naming the unexpected request and the missing one."""
    from pact.error import MismatchesError

    from tests.contracts.http_pact import drive_read_lot, list_published

    wrong = Scenario("reads instead of listing", (list_published,), drive_read_lot)
    with pytest.raises((MismatchesError, AssertionError)) as failed:
        run_scenario(wrong, tmp_path, tmp_path / "pacts")
    assert "/api/lots/external" in str(failed.value)
