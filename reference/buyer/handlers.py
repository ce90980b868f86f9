"""One handler per operationId of buyer.yaml, bound to the portal's context."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from lotflow.reference.buyer import (
    bids,
    contracts,
    counters,
    deliveries,
    lots,
    marketplace,
    notifications,
)
from lotflow.reference.buyer.context import BuyerContext

from lotflow.http import Handler, OperationRequest, Reply
from lotflow.threads import in_thread

__all__ = ["HANDLERS", "bind"]

Service = Callable[[BuyerContext, OperationRequest], "Reply | Awaitable[Reply]"]
"""What a buyer operation does, given the portal's context (bound to it by :func:`bind`)."""

HANDLERS: dict[str, Service] = {
    # producer-facing
    "listExternalLots": marketplace.list_external_lots,
    "getExternalLot": marketplace.get_external_lot,
    "submitBid": bids.submit_bid,
    "getExternalBid": bids.get_external_bid,
    "acceptCounterOffer": counters.accept_counter_offer,
    "getExternalContract": contracts.get_external_contract,
    # operator: lots
    "listLots": lots.list_lots,
    "createLot": lots.create_lot,
    "getLot": lots.get_lot,
    "updateLot": lots.update_lot,
    "deleteLot": lots.delete_lot,
    "publishLot": lots.publish_lot,
    # operator: bids and counter-offers
    "listLotBids": bids.list_lot_bids,
    "getBid": bids.get_bid,
    "decideBid": bids.decide_bid,
    "counterBid": counters.counter_bid,
    # operator: contracts
    "listContracts": contracts.list_contracts,
    "createContract": contracts.create_contract,
    "getContract": contracts.get_contract,
    "updateContractStatus": contracts.update_contract_status,
    # operator: notifications
    "listNotifications": notifications.list_notifications,
    "markNotificationRead": notifications.mark_notification_read,
    # webhook delivery log
    "listWebhookDeliveries": deliveries.list_webhook_deliveries,
    "getWebhookDelivery": deliveries.get_webhook_delivery,
    "redeliverWebhook": deliveries.redeliver_webhook,
}


def bind(ctx: BuyerContext) -> dict[str, Handler]:
    """The handlers of every operation, each bound to ``ctx``.

    Async handlers run on the event loop. On PostgreSQL the others run in the threadpool. On
    SQLite they run inline on the event loop with group commit (``Database.inline_writes``):
    the writes of every request handled in one turn of the loop commit together, and each
    answer waits for that commit. A short SQLite transaction costs less than the hand-off to a
    worker thread (under the GIL a thread would not run it sooner), and its commit costs more
    than its statements. When another thread of the process (the webhook dispatcher) is
    writing, the handler goes to the threadpool and waits there instead of on the loop.
    """
    bound = {operation: partial(handler, ctx) for operation, handler in HANDLERS.items()}
    if not ctx.db.is_sqlite:
        return dict(bound)
    return {
        operation: handler if inspect.iscoroutinefunction(handler.func) else _inline(ctx, handler)
        for operation, handler in bound.items()
    }


def _inline(ctx: BuyerContext, handler: Callable[[OperationRequest], Any]) -> Handler:
    """``handler`` (synchronous) run as described in :func:`bind`."""

    async def inline_grouped(request: OperationRequest) -> Reply:
        with ctx.db.inline_writes() as member:
            if member is not None:
                try:
                    reply, failure = handler(request), None
                except Exception as exc:  # noqa: BLE001 - re-raised once earlier writes commit
                    reply, failure = None, exc
        if member is None:
            reply = await in_thread(handler, request)
        else:
            await member.committed()
            if failure is not None:
                raise failure
        if not isinstance(reply, Reply):
            raise TypeError(f"handler {handler!r} returned {reply!r}, not a Reply")
        return reply

    return inline_grouped
