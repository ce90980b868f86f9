"""The app is the spec: one route per operation, one handler per operationId, the spec served."""

from __future__ import annotations

import pytest
from lotflow.reference.buyer.handlers import HANDLERS

from lotflow.http import routes_of
from lotflow.openapi import load_portal_spec, operations, webhooks
from tests.reference.buyer.portal import Portal

pytestmark = pytest.mark.anyio

SPEC = load_portal_spec("buyer")


async def test_routes_are_exactly_the_operations_of_the_buyer_spec(portal: Portal) -> None:
    expected = {(op.method.upper(), op.path) for op in operations(SPEC).values()}
    assert routes_of(portal.app) == expected


def test_there_is_one_handler_per_operation_id() -> None:
    assert set(HANDLERS) == set(operations(SPEC))


async def test_the_app_serves_the_bundled_spec_it_implements(portal: Portal) -> None:
    response = await portal.client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == SPEC


async def test_every_webhook_of_the_spec_has_a_delivery_path(portal: Portal) -> None:
    paths = portal.ctx.delivery_paths
    assert set(paths) == set(webhooks(SPEC))
    assert set(paths.values()) == {
        "/api/webhooks/lots",
        "/api/webhooks/bids",
        "/api/webhooks/contracts",
    }
