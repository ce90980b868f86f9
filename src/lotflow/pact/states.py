"""Provider states of the pacts, named after the workflow, set up through the buyer's own API.

Each state is a function of a :class:`BuyerDriver` (the buyer's API with the operator's
credentials and the producer API key) and the state's parameters; it makes what the state says
true on the buyer through the operator endpoints (and ``submitBid`` for bids), and returns the
values the pact injects into its requests (``lotId``, ``bidId``, ``externalBidId``,
``counterOfferId``, ``contractId``): Pact's provider-state convention, so that a request can name
an entity the buyer has just made. Every body comes from the spec's examples.

The consumer tests name their states with these constants; a state the pacts use and this module
does not implement is a failure of ``lotflow pact verify`` (named), never a silent pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lotflow.client import SpecClient
from lotflow.errors import LotflowError
from lotflow.ids import new_object_id
from lotflow.openapi import load_portal_spec
from lotflow.pact.examples import example

__all__ = [
    "BID_COUNTERED",
    "BID_JUST_ACCEPTED",
    "BID_JUST_COUNTERED",
    "BID_JUST_REJECTED",
    "BID_SUBMITTED",
    "BID_SUBMITTED_OTHER_TERMS",
    "CONTRACT_MADE",
    "LOT_JUST_PUBLISHED",
    "LOT_JUST_UPDATED",
    "LOT_JUST_WITHDRAWN",
    "LOT_PUBLISHED",
    "LOT_SOLD",
    "LOT_TOO_SMALL",
    "NO_SUCH_ENTITY",
    "STATES",
    "BuyerDriver",
    "StateSetupError",
    "set_up",
]

LOT_PUBLISHED = "a published lot exists"
LOT_SOLD = "a lot was sold"
LOT_TOO_SMALL = "a published lot smaller than the bid exists"
BID_SUBMITTED = "a bid was submitted"
BID_SUBMITTED_OTHER_TERMS = "a bid was submitted under the same externalBidId with other terms"
BID_COUNTERED = "a bid with a pending counter-offer exists"
CONTRACT_MADE = "a contract was made from an accepted bid"
NO_SUCH_ENTITY = "no entity has the requested id"

# Message states: the operation that makes the buyer send the event.
LOT_JUST_PUBLISHED = "a draft lot is published"
LOT_JUST_UPDATED = "a published lot is updated"
LOT_JUST_WITHDRAWN = "a published lot is withdrawn"
BID_JUST_ACCEPTED = "a pending bid is accepted"
BID_JUST_REJECTED = "a pending bid is rejected"
BID_JUST_COUNTERED = "a pending bid is countered"

Values = dict[str, str]


class StateSetupError(LotflowError):
    """The buyer refused a call that a provider state needs (names the state and the call)."""


@dataclass
class BuyerDriver:
    """The buyer's API as the state setup uses it: operator calls and producer calls."""

    operator: SpecClient
    producer: SpecClient

    @classmethod
    def connect(
        cls,
        base_url: str,
        api_key: str,
        operator_headers: Mapping[str, str],
        *,
        timeout: float = 10.0,
    ) -> BuyerDriver:
        spec = load_portal_spec("buyer")
        return cls(
            SpecClient(spec, base_url, headers=dict(operator_headers), timeout=timeout),
            SpecClient(spec, base_url, headers={"X-API-Key": api_key}, timeout=timeout),
        )

    def close(self) -> None:
        self.operator.close()
        self.producer.close()

    def operate(self, operation: str, member: str, **call: Any) -> dict[str, Any]:
        """An operator call that must succeed; the member of the answer (``lot``, ``bid``), or
        the whole answer when ``member`` is empty."""
        found: dict[str, Any] = self._expect(self.operator, operation, member, **call)
        return found

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        """A bid submission with the producer key that must succeed; the stored bid."""
        bid: dict[str, Any] = self._expect(self.producer, "submitBid", "bid", body=body)
        return bid

    def _expect(self, client: SpecClient, operation: str, member: str, **call: Any) -> Any:
        response = client.call(operation, **call)
        if response.status_code >= 300:
            raise StateSetupError(
                f"{operation} answered {response.status_code} while setting up a provider "
                f"state: {response.text[:300]}"
            )
        return response.json()[member] if member else response.json()


def _spec() -> dict[str, Any]:
    return load_portal_spec("buyer")


def _draft_lot(buyer: BuyerDriver, **changes: Any) -> dict[str, Any]:
    return buyer.operate("createLot", "lot", body=example(_spec(), "LotInput") | changes)


def _published_lot(buyer: BuyerDriver, **changes: Any) -> dict[str, Any]:
    lot = _draft_lot(buyer, **changes)
    return buyer.operate("publishLot", "lot", path={"lotId": lot["_id"]})


def _submission(lot_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = example(_spec(), "BidSubmission")
    return body | {"lotId": lot_id, "externalBidId": new_object_id()} | changes


def _bid(buyer: BuyerDriver, **changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    lot = _published_lot(buyer)
    return lot, buyer.submit(_submission(lot["_id"], **changes))


def _decide(buyer: BuyerDriver, bid_id: str, index: int) -> dict[str, Any]:
    decision = example(_spec(), "BidDecision", index)
    return buyer.operate("decideBid", "", path={"bidId": bid_id}, body=decision)


def _ids(lot: dict[str, Any], bid: dict[str, Any] | None = None, **more: str) -> Values:
    found = {"lotId": lot["_id"]}
    if bid is not None:
        found |= {"bidId": bid["_id"], "externalBidId": bid["externalBidId"]}
    return found | more


def lot_published(buyer: BuyerDriver, _params: Mapping[str, Any]) -> Values:
    return _ids(_published_lot(buyer))


def lot_too_small(buyer: BuyerDriver, _params: Mapping[str, Any]) -> Values:
    """A published lot whose volume is a tenth of what the bid example asks for."""
    wanted = example(_spec(), "BidSubmission")["volume"]
    pricing = example(_spec(), "LotInput")["pricing"]
    amount = wanted["amount"] / 10
    pricing |= {"price": round(amount * pricing["pricePerUnit"], 2)}
    return _ids(_published_lot(buyer, volume={**wanted, "amount": amount}, pricing=pricing))


def lot_sold(buyer: BuyerDriver, _params: Mapping[str, Any]) -> Values:
    lot, bid = _bid(buyer)
    _decide(buyer, bid["_id"], 0)
    return _ids(lot)


def bid_submitted(buyer: BuyerDriver, _params: Mapping[str, Any]) -> Values:
    lot, bid = _bid(buyer)
    return _ids(lot, bid)


def bid_other_terms(buyer: BuyerDriver, _params: Mapping[str, Any]) -> Values:
    """The example submission with a smaller volume (and its price), stored first."""
    terms = example(_spec(), "BidSubmission")
    amount = terms["volume"]["amount"] / 2
    pricing = terms["pricing"] | {"price": round(amount * terms["pricing"]["pricePerUnit"], 2)}
    lot, bid = _bid(buyer, volume={**terms["volume"], "amount": amount}, pricing=pricing)
    return _ids(lot, bid)


def bid_countered(buyer: BuyerDriver, _params: Mapping[str, Any]) -> Values:
    lot, bid = _bid(buyer)
    counter = {k: v for k, v in example(_spec(), "CounterOfferInput").items() if k != "expiresAt"}
    answer = buyer.operate("counterBid", "", path={"bidId": bid["_id"]}, body=counter)
    return _ids(lot, bid, counterOfferId=answer["counterOffer"]["_id"])


def contract_made(buyer: BuyerDriver, _params: Mapping[str, Any]) -> Values:
    lot, bid = _bid(buyer)
    decided = _decide(buyer, bid["_id"], 0)
    return _ids(lot, bid, contractId=decided["contract"]["_id"])


def nothing(_buyer: BuyerDriver, _params: Mapping[str, Any]) -> Values:
    """The requested ids are the spec's example ids, which no portal is expected to hold."""
    return {}


def lot_updated(buyer: BuyerDriver, _params: Mapping[str, Any]) -> Values:
    lot = _published_lot(buyer)
    change = example(_spec(), "LotUpdate") | {"version": lot["version"]}
    return _ids(buyer.operate("updateLot", "lot", path={"lotId": lot["_id"]}, body=change))


def lot_withdrawn(buyer: BuyerDriver, _params: Mapping[str, Any]) -> Values:
    lot = _published_lot(buyer)
    buyer.operate("deleteLot", "", path={"lotId": lot["_id"]})
    return _ids(lot)


def bid_rejected(buyer: BuyerDriver, _params: Mapping[str, Any]) -> Values:
    lot, bid = _bid(buyer)
    _decide(buyer, bid["_id"], 1)
    return _ids(lot, bid)


State = Callable[[BuyerDriver, Mapping[str, Any]], Values]

STATES: dict[str, State] = {
    LOT_PUBLISHED: lot_published,
    LOT_SOLD: lot_sold,
    LOT_TOO_SMALL: lot_too_small,
    BID_SUBMITTED: bid_submitted,
    BID_SUBMITTED_OTHER_TERMS: bid_other_terms,
    BID_COUNTERED: bid_countered,
    CONTRACT_MADE: contract_made,
    NO_SUCH_ENTITY: nothing,
    LOT_JUST_PUBLISHED: lot_published,
    LOT_JUST_UPDATED: lot_updated,
    LOT_JUST_WITHDRAWN: lot_withdrawn,
    BID_JUST_ACCEPTED: contract_made,
    BID_JUST_REJECTED: bid_rejected,
    BID_JUST_COUNTERED: bid_countered,
}


def set_up(buyer: BuyerDriver, state: str, params: Mapping[str, Any] | None = None) -> Values:
    """Make ``state`` true on the buyer; the values for the pact's provider-state expressions."""
    setup = STATES.get(state)
    if setup is None:
        known = ", ".join(sorted(STATES))
        raise StateSetupError(f"No provider state {state!r}; lotflow knows: {known}.")
    return setup(buyer, params or {})
