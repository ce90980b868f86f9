"""Schemathesis over the whole buyer spec, in-process: stateless, and stateful through the links.

Every security scheme gets its real credentials (the producer key as ``X-API-Key`` and as a
bearer, an operator token), so every operation is reachable, and the app is seeded with
published lots, a pending bid and a contract so that reads and links meet real data. Every check
runs with its defaults, except one deliberate, narrow exception: ``use_after_free`` for the reads
of a withdrawn lot, because the spec keeps a withdrawn lot readable (cancelled) after its DELETE;
``BuyerWorkflow`` checks that contract instead. Positive cases are completed to satisfy the
cross-field rules a schema cannot state (``contract_data``), and bids go to the seeded lot so
that the links from a new bid lead somewhere. ``HYPOTHESIS_PROFILE=deep`` digs far deeper.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from fastapi import FastAPI
from hypothesis import settings
from lotflow.reference.buyer import BuyerSettings, create_app
from lotflow.reference.buyer.kinds import LOT as LOT_KIND
from lotflow.reference.buyer.tables import metadata
from lotflow.reference.common import store
from schemathesis.config import SchemathesisConfig

from lotflow import ids
from lotflow.clock import FakeClock
from tests.reference.buyer.contract_data import make_contract_valid
from tests.reference.buyer.portal import API_KEY, LOT, START, TOKENS, bid_body, buyer_env

DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "deep"
STATELESS = settings(max_examples=200 if DEEP else 25)
STATEFUL = settings(max_examples=300 if DEEP else 15, stateful_step_count=20 if DEEP else 8)


def _config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "auth": {
                "openapi": {
                    "producerApiKey": {"api_key": API_KEY},
                    "producerBearer": {"bearer": API_KEY},
                    "operatorToken": {"bearer": TOKENS["a"]},
                }
            },
            "operations": [
                {
                    # buyer.yaml: a withdrawn lot is kept for the record (cancelled), so its owner
                    # still reads it; BuyerWorkflow checks that it reads as cancelled instead.
                    "include-operation-id": ["getLot", "listLotBids"],
                    "checks": {"use_after_free": {"enabled": False}},
                }
            ],
        }
    )


async def _seed(app: FastAPI) -> dict[str, Any]:
    """Two published lots with a bid each (one accepted, so a contract exists), a draft lot, and
    the open lot that generated bids go to (returned)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://buyer.test") as client:
        operator = {"Authorization": f"Bearer {TOKENS['a']}"}
        producer = {"X-API-Key": API_KEY}
        for _ in range(2):
            lot = (await client.post("/api/lots", json=LOT, headers=operator)).json()["lot"]
            await client.post(f"/api/lots/{lot['_id']}/publish", headers=operator)
            made = await client.post("/api/bids", json=bid_body(lot["_id"]), headers=producer)
        accept = {"status": "accepted"}
        await client.put(f"/api/bids/{made.json()['bid']['_id']}", json=accept, headers=operator)
        await client.post("/api/lots", json=LOT, headers=operator)
        open_lot = (await client.post("/api/lots", json=LOT, headers=operator)).json()["lot"]
        published = await client.post(f"/api/lots/{open_lot['_id']}/publish", headers=operator)
        await client.post("/api/bids", json=bid_body(open_lot["_id"]), headers=producer)
    return dict(published.json()["lot"])


def reset(app: FastAPI) -> None:
    """Empty the database and seed it again, so that every scenario starts from the same state."""
    with app.state.buyer.db.write() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    OPEN_LOT.clear()
    OPEN_LOT.update(asyncio.run(_seed(app)))


# The auth-failure limit is off here: Schemathesis sends invalid credentials to every operation
# many times (its ignored_auth check wants each refused with 401), which the limit would turn
# into 429s; the limit has tests of its own (tests/core/test_http_throttle.py).
WORKDIR = tempfile.TemporaryDirectory(prefix="lotflow-buyer-schemathesis-")
APP = create_app(
    BuyerSettings.from_env(buyer_env(Path(WORKDIR.name), LOTFLOW_AUTH_FAILURE_LIMIT="0")),
    clock=FakeClock(START),
    dispatcher_enabled=False,
)
OPEN_LOT: dict[str, Any] = {}
reset(APP)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=_config())


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, _kwargs: Any) -> None:
    """Positive cases for this app satisfy the cross-field rules a schema cannot state (a global
    hook, so it first checks that the case is this module's)."""
    operation = context.operation
    if operation is None or operation.schema.app is not APP:
        return
    if case.meta is not None and case.meta.generation.mode.is_positive:
        operation_id = operation.definition.raw["operationId"]
        case.body = make_contract_valid(operation_id, case.body, _open_lot())


def _open_lot() -> dict[str, Any]:
    """The seeded published lot as it is now (a scenario may have changed its volume)."""
    with APP.state.buyer.db.read() as conn:
        lot = store.fetch(conn, LOT_KIND, OPEN_LOT["_id"])
    assert lot is not None
    return lot


@schema.parametrize()
@STATELESS
def test_every_operation_conforms_and_never_answers_5xx(case: schemathesis.Case) -> None:
    case.call_and_validate()


class BuyerWorkflow(schema.as_state_machine()):  # type: ignore[misc]
    """The link-driven state machine, plus the contract's meaning of deleteLot: the lot is kept,
    cancelled, with no open bid left."""

    def __init__(self) -> None:
        super().__init__()
        self.withdrawn: set[str] = set()

    def setup(self) -> None:
        ids.restart(0)  # the same ids at every replay: Hypothesis replays a case to shrink it
        reset(APP)

    def after_call(self, response: Any, case: schemathesis.Case) -> None:
        super().after_call(response, case)
        operation, path = case.operation.definition.raw["operationId"], case.path_parameters
        if response.status_code != 200 or not path:
            return
        if operation == "deleteLot":
            self.withdrawn.add(path["lotId"])
        elif operation == "getLot" and path["lotId"] in self.withdrawn:
            assert response.json()["lot"]["status"] == "cancelled"
        elif operation == "listLotBids" and path["lotId"] in self.withdrawn:
            assert not {b["status"] for b in response.json()["bids"]} & {"pending", "countered"}


def test_workflows_through_the_links_conform() -> None:
    try:
        BuyerWorkflow.run(settings=STATEFUL)
    finally:
        ids.restart(None)  # random ids again for the tests that follow in this process
