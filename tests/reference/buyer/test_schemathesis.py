"""Schemathesis over the whole buyer spec, in-process: stateless, and stateful through the links.

Credentials for both audiences are sent on every request (the API key in X-API-Key, an operator
token as Bearer), so every operation is reachable. One deliberate setting: the contract documents
422 for business rules a schema cannot state (pricing consistency, a bid larger than its lot), so
schema-valid data may also be answered 422; every other check runs with its defaults.
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from lotflow.reference.buyer.app import create_app
from lotflow.reference.buyer.settings import BuyerSettings
from tests.fixtures.buyer import API_KEY, TOKEN_A, buyer_env

WORKDIR = Path(__import__("tempfile").mkdtemp(prefix="lotflow-st-buyer-"))
APP = create_app(BuyerSettings.from_env(buyer_env(WORKDIR)), dispatcher_enabled=False)
CONFIG = SchemathesisConfig.from_dict({
    "headers": {"X-API-Key": API_KEY, "Authorization": f"Bearer {TOKEN_A}"},
    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "404", "409", "422"]}},
})
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)
FAST = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))


@schema.parametrize()
@FAST
def test_every_operation_conforms_and_never_answers_5xx(case: schemathesis.Case) -> None:
    case.call_and_validate()


class TestWorkflowThroughLinks(schema.as_state_machine().TestCase):  # type: ignore[misc]
    settings = settings(max_examples=12, stateful_step_count=8, deadline=None, suppress_health_check=list(HealthCheck))
