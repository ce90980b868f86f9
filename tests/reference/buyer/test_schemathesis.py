"""Schemathesis over the whole buyer spec, in-process: stateless, and stateful through the links.

Credentials for both audiences are sent on every request (the API key in X-API-Key, an operator
token as Bearer), so every operation is reachable. Two deliberate settings, both decisions of
the contract rather than tolerance of a fault:
- the contract documents 422 for business rules a schema cannot state (pricing consistency, a
  bid larger than its lot), so schema-valid data may also be answered 422;
- ``DELETE /api/lots/{lotId}`` withdraws a lot: the lot stays on record as ``cancelled`` and its
  bids as ``withdrawn`` (deleteLot's description), so the "deleted resource still available"
  check does not apply; test_workflow pins that behaviour instead.
Stateful sequences follow the links the spec declares, not inferred ones: inference pairs
operations of different audiences by parameter name (createLot → getExternalLot), whereas the
contract hides a draft from producers on purpose. Every other check runs with its defaults.
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import settings
from lotflow.reference.buyer.app import create_app
from lotflow.reference.buyer.settings import BuyerSettings
from schemathesis.config import SchemathesisConfig

from tests.fixtures.buyer import API_KEY, TOKEN_A, buyer_env

WORKDIR = Path(__import__("tempfile").mkdtemp(prefix="lotflow-st-buyer-"))
APP = create_app(BuyerSettings.from_env(buyer_env(WORKDIR)), dispatcher_enabled=False)
CONFIG = SchemathesisConfig.from_dict(
    {
        "headers": {"X-API-Key": API_KEY, "Authorization": f"Bearer {TOKEN_A}"},
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "404", "409", "422"]},
            "use_after_free": {"enabled": False},
        },
        "phases": {"stateful": {"inference": {"algorithms": []}}},
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@schema.parametrize()
def test_every_operation_conforms_and_never_answers_5xx(case: schemathesis.Case) -> None:
    case.call_and_validate()


class TestWorkflowThroughLinks(schema.as_state_machine().TestCase):  # type: ignore[misc]
    settings = settings(stateful_step_count=8)
