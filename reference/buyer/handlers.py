"""One handler per operationId of buyer.yaml, bound to the portal's context."""

from __future__ import annotations

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

from lotflow.http import Handler, OperationRequest, Reply

__all__ = ["OPERATIONS", "bind"]

Operation = Callable[[BuyerContext, OperationRequest], "Reply | Awaitable[Reply]"]

OPERATIONS: dict[str, Operation] = {
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
    """The handlers of every operation, each bound to ``ctx`` (sync ones run in the threadpool,
    async ones on the event loop)."""
    return {operation: partial(handler, ctx) for operation, handler in OPERATIONS.items()}
