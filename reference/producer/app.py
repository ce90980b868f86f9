"""The reference Producer Portal: ``create_app(settings)`` binds every operation of the producer
spec."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import httpx
from fastapi import FastAPI
from lotflow.reference.common import notifications
from lotflow.reference.common.auth import operator_token
from lotflow.reference.common.inline import inline
from lotflow.reference.faults import plan_faults
from lotflow.reference.producer import bids, contracts, marketplace, receivers
from lotflow.reference.producer.context import ProducerContext
from lotflow.reference.producer.settings import ProducerSettings
from lotflow.reference.producer.tables import metadata

from lotflow.client import SpecClient
from lotflow.clock import Clock, SystemClock
from lotflow.db import Database
from lotflow.http import FailureThrottle, OperationRequest, Reply, build_app
from lotflow.openapi import load_portal_spec

Service = Callable[[ProducerContext, OperationRequest], Reply]
"""What a producer operation does, given the portal's context."""


RECEIVERS = ("receiveLotWebhook", "receiveBidWebhook", "receiveContractWebhook")
"""The webhook receivers: database work only (they never call the buyer), so they may run
inline (``reference.common.inline``); the operations that call the buyer stay in the threadpool."""

HANDLERS: dict[str, Service] = {
    "receiveLotWebhook": receivers.receive,
    "receiveBidWebhook": receivers.receive,
    "receiveContractWebhook": receivers.receive,
    "listMarketplaceLots": marketplace.list_lots,
    "getMarketplaceLot": marketplace.get_lot,
    "syncMarketplace": marketplace.sync,
    "listProducerBids": bids.list_bids,
    "submitProducerBid": bids.submit_bid,
    "getProducerBid": bids.get_bid,
    "resubmitProducerBid": bids.resubmit_bid,
    "respondToCounterOffer": bids.respond_to_counter,
    "listProducerContracts": contracts.list_contracts,
    "getProducerContract": contracts.get_contract,
    "updateProducerContract": contracts.update_contract,
    "listProducerNotifications": notifications.list_notifications,
    "markProducerNotificationRead": notifications.mark_notification_read,
}


def create_app(
    settings: ProducerSettings,
    *,
    clock: Clock | None = None,
    buyer_transport: httpx.BaseTransport | None = None,
    faults: Sequence[str] = (),
) -> FastAPI:
    """The producer portal app; the database schema is created here. ``faults`` names
    deliberate faults (``lotflow.reference.faults``) to build in; none by default."""
    plan = plan_faults("producer", faults)
    clock = clock or SystemClock()
    db = Database(settings.database_url)
    db.create_all(metadata)

    def make_buyer() -> SpecClient:
        return SpecClient(
            load_portal_spec("buyer"),
            settings.buyer_url,
            headers={"X-API-Key": settings.buyer_api_key},
            timeout=settings.buyer_timeout,
            retries=settings.buyer_retries,
            transport=plan.wrap_buyer_transport(buyer_transport),
        )

    ctx = ProducerContext(db, settings, clock, make_buyer)
    handlers = plan.wrap_handlers({op: partial(fn, ctx) for op, fn in HANDLERS.items()})
    for operation in RECEIVERS:  # every delivery hits them: inline with group commit on SQLite
        handlers[operation] = inline(db, handlers[operation])
    authenticators = plan.wrap_authenticators(
        {
            **receivers.authenticators(settings, clock),
            "producerOperatorToken": operator_token(settings.operators),
        }
    )
    app = build_app(
        load_portal_spec("producer"),
        handlers,
        authenticators=authenticators,
        max_body_bytes=settings.max_body_bytes,
        validate_responses=settings.validate_responses,
        auth_throttle=FailureThrottle(settings.auth_failure_limit, 60.0, clock),
        lifespan=_lifespan(ctx),
    )
    app.state.context = ctx
    return plan.wrap_app(app)


def _lifespan(ctx: ProducerContext) -> Any:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            ctx.close_buyer()
            ctx.db.dispose()

    return lifespan
