"""One handler per operationId of buyer.yaml, bound to the portal's context."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from functools import partial

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
from lotflow.reference.common.inline import inline

from lotflow.http import Handler, OperationRequest, Reply

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
    """The handlers of every operation, each bound to ``ctx``: async ones run on the event
    loop, the others inline with group commit on SQLite (``reference.common.inline``; none of
    the buyer's handlers waits on the network), in the threadpool elsewhere."""
    bound = {operation: partial(handler, ctx) for operation, handler in HANDLERS.items()}
    return {
        operation: handler if inspect.iscoroutinefunction(handler.func) else inline(ctx.db, handler)
        for operation, handler in bound.items()
    }
