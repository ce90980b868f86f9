"""The reference Buyer Portal: ``create_app(settings)`` serves every operation of buyer.yaml.

The routes come from the spec (``lotflow.http.build_app``); the database schema is created when
the app is made; the webhook dispatcher runs in the app's lifespan when ``dispatcher_enabled``.
``app.state.buyer`` holds the portal's context (database, settings, clock) and
``app.state.dispatcher`` its dispatcher, for tests and tools.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from fastapi import FastAPI
from lotflow.reference.buyer import answers
from lotflow.reference.buyer.auth import authenticators
from lotflow.reference.buyer.context import BuyerContext
from lotflow.reference.buyer.dispatcher import Dispatcher
from lotflow.reference.buyer.handlers import bind
from lotflow.reference.buyer.settings import BuyerSettings
from lotflow.reference.buyer.tables import lot_standards, lots, metadata
from lotflow.reference.faults import plan_faults

from lotflow.clock import Clock, SystemClock
from lotflow.db import Database
from lotflow.http import FailureThrottle, build_app

__all__ = ["create_app"]

log = logging.getLogger("lotflow.reference.buyer")


def create_app(
    settings: BuyerSettings,
    *,
    clock: Clock | None = None,
    dispatcher_enabled: bool = True,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
    faults: Sequence[str] = (),
) -> FastAPI:
    """The buyer portal app over ``settings.database_url`` (tables created if missing).

    ``webhook_transport`` replaces the network for the dispatcher's sends (tests, simulations).
    ``faults`` names deliberate faults (``lotflow.reference.faults``) to build in; none by default.
    """
    plan = plan_faults("buyer", faults)
    db = Database(settings.database_url)
    db.create_all(metadata)
    db.count_changes(answers.COUNTER, lots, lot_standards)
    ctx = BuyerContext(settings, db, clock or SystemClock())
    transport = plan.wrap_transport(webhook_transport, settings.webhook_secrets)
    dispatcher = Dispatcher(db, settings, ctx.clock, transport, signal=ctx.signal)
    if settings.webhook_base_url is None and not dispatcher_enabled:  # else the dispatcher says it
        log.warning("PRODUCER_DASHBOARD_WEBHOOK_URL is not set: webhook events stay pending.")
    app = build_app(
        ctx.spec,
        plan.wrap_handlers(bind(ctx)),
        authenticators=plan.wrap_authenticators(
            authenticators(settings.api_key, settings.operators)
        ),
        max_body_bytes=settings.max_body_bytes,
        validate_responses=settings.validate_responses,
        auth_throttle=FailureThrottle(settings.auth_failure_limit, 60.0, ctx.clock),
        lifespan=_lifespan(ctx, dispatcher, dispatcher_enabled),
    )
    app.state.buyer = ctx
    app.state.dispatcher = dispatcher
    return plan.wrap_app(app)


def _lifespan(
    ctx: BuyerContext, dispatcher: Dispatcher, enabled: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
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
            ctx.db.dispose()

    return lifespan
