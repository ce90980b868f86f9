"""The reference Buyer Portal: ``create_app(settings)`` binds every operation of the buyer spec."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import httpx
from fastapi import FastAPI
from lotflow.reference.buyer import bids, contracts, deliveries, lots
from lotflow.reference.buyer.context import BuyerContext
from lotflow.reference.buyer.dispatcher import Dispatcher
from lotflow.reference.buyer.settings import BuyerSettings
from lotflow.reference.buyer.tables import buyer_tables
from lotflow.reference.common import notifications
from lotflow.reference.common.auth import bearer_key, header_key, operator_token

from lotflow.clock import Clock, SystemClock
from lotflow.db import Database
from lotflow.http import Handler, OperationRequest, Reply, build_app
from lotflow.openapi import load_portal_spec

PRODUCER = "producer-portal"
Operation = Callable[[BuyerContext, OperationRequest], Reply]

OPERATIONS: dict[str, Operation] = {
    "listExternalLots": lots.list_external_lots,
    "getExternalLot": lots.get_external_lot,
    "submitBid": bids.submit_bid,
    "getExternalBid": bids.get_external_bid,
    "acceptCounterOffer": bids.accept_counter_offer,
    "getExternalContract": contracts.get_external_contract,
    "listLots": lots.list_lots,
    "createLot": lots.create_lot,
    "getLot": lots.get_lot,
    "updateLot": lots.update_lot,
    "deleteLot": lots.delete_lot,
    "publishLot": lots.publish_lot,
    "listLotBids": bids.list_lot_bids,
    "getBid": bids.get_bid,
    "decideBid": bids.decide_bid,
    "counterBid": bids.counter_bid,
    "listContracts": contracts.list_contracts,
    "createContract": contracts.create_contract,
    "getContract": contracts.get_contract,
    "updateContractStatus": contracts.update_contract_status,
    "listNotifications": lambda ctx, req: _notifications(
        ctx, req, notifications.list_notifications
    ),
    "markNotificationRead": lambda ctx, req: _mark_read(ctx, req),
    "listWebhookDeliveries": deliveries.list_deliveries,
    "getWebhookDelivery": deliveries.get_delivery,
    "redeliverWebhook": deliveries.redeliver,
}


def _notifications(ctx: BuyerContext, req: OperationRequest, action: Callable[..., Reply]) -> Reply:
    with ctx.db.read() as conn:
        return action(conn, ctx.tables.notifications, req.principal.org_id, req)


def _mark_read(ctx: BuyerContext, req: OperationRequest) -> Reply:
    with ctx.db.write() as conn:
        return notifications.mark_read(
            conn,
            ctx.tables.notifications,
            req.principal.org_id,
            req.path_params["notificationId"],
            ctx.clock.now(),
        )


def create_app(
    settings: BuyerSettings,
    *,
    clock: Clock | None = None,
    dispatcher_enabled: bool = True,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The buyer portal app. The database schema is created here; the dispatcher runs in the
    lifespan."""
    spec = load_portal_spec("buyer")
    tables = buyer_tables()
    db = Database(settings.database_url)
    db.create_all(tables.metadata)
    ctx = BuyerContext(db, tables, settings, clock or SystemClock(), spec)
    dispatcher = Dispatcher(ctx, transport=webhook_transport)
    ctx.wake = dispatcher.wake
    handlers: dict[str, Handler] = {op: partial(fn, ctx) for op, fn in OPERATIONS.items()}
    authenticators = {
        "producerApiKey": header_key("x-api-key", settings.api_key, PRODUCER),
        "producerBearer": bearer_key(settings.api_key, PRODUCER),
        "operatorToken": operator_token(settings.operators),
    }
    app = build_app(
        spec,
        handlers,
        authenticators=authenticators,
        max_body_bytes=settings.max_body_bytes,
        validate_responses=settings.validate_responses,
        lifespan=_lifespan(dispatcher, dispatcher_enabled, db),
    )
    app.state.context = ctx
    app.state.dispatcher = dispatcher
    return app


def _lifespan(dispatcher: Dispatcher, enabled: bool, db: Database) -> Any:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run_forever(stop)) if enabled else None
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task
            await dispatcher.aclose()
            db.dispose()

    return lifespan
