"""The two disagreements the model found, settled in the spec, replayed as step lists between
the in-process reference portals: a counter-offer that expires is told to the producer, and an
event about a lot the producer never saw creates it in the state the event says."""

from __future__ import annotations

from collections.abc import Callable

from lotflow.explore.inprocess import InProcessPair
from lotflow.explore.model import Outcome, build_model
from lotflow.explore.network import Fault


def model(make_pair: Callable[[], InProcessPair]) -> object:
    return build_model(make_pair, Outcome())()


def status(pair: InProcessPair, operation: str, **path: str) -> str:
    answer = pair.producer("alpha", operation, path=path)
    return (
        str(answer.json()[next(iter(answer.json()))]["status"]) if answer.is_success else "absent"
    )


def test_an_expired_counter_offer_is_told_and_the_producer_shows_its_bid_submitted_again(
    make_pair: Callable[[], InProcessPair],
) -> None:
    m = model(make_pair)
    m.create_lot(1000, publish=True)
    m.submit_bid(0, 0, None)
    m.counter_bid(0, 60)
    m.settle(Fault.NONE)
    pair, pbid = m.pair, m.vars.values["pbid_1"]
    assert status(pair, "getProducerBid", bidId=pbid) == "counter_offer"
    m.pass_time(300)
    m.settle(Fault.NONE)  # the sweep expires it; bid.counter_offer (expired) is delivered
    assert status(pair, "getProducerBid", bidId=pbid) == "submitted"
    told = [d.payload for d in pair.log.since(0) if d.event == "bid.counter_offer"]
    assert [p["counterOffer"]["status"] for p in told] == ["pending", "expired"]
    kinds = pair.producer("alpha", "listProducerNotifications").json()["notifications"]
    assert kinds[0]["kind"] == "counter_offer_expired"
    m.holds()
    m.teardown()


def test_a_lot_deleted_before_the_producer_saw_it_published_stays_closed(
    make_pair: Callable[[], InProcessPair],
) -> None:
    m = model(make_pair)
    m.create_lot(1000, publish=True)
    m.submit_bid(0, 0, None)
    m.withdraw_lot(0)
    m.dispatch(Fault.DELAY)  # lot.published and lot.deleted both held back
    pair, lot = m.pair, m.vars.values["lot_1"]
    assert [h.event for h in pair.network.held] == ["lot.published", "lot.deleted"]
    assert pair.release(1) == "lot.deleted"  # the newer one arrives first
    assert status(pair, "getMarketplaceLot", lotId=lot) == "closed"
    assert status(pair, "getProducerBid", bidId=m.vars.values["pbid_1"]) == "withdrawn"
    assert pair.release(0) == "lot.published"  # the late, older one changes nothing
    assert status(pair, "getMarketplaceLot", lotId=lot) == "closed"
    m.settle(Fault.NONE)
    m.holds()
    m.teardown()


def test_a_bid_accepted_on_a_lot_the_producer_never_saw_awards_the_lot(
    make_pair: Callable[[], InProcessPair],
) -> None:
    m = model(make_pair)
    m.create_lot(1000, publish=True)
    m.submit_bid(0, 0, None)
    m.accept_bid(0, True)
    m.dispatch(Fault.DELAY)
    pair = m.pair
    events = [h.event for h in pair.network.held]
    assert events[0] == "lot.published"
    for index in range(len(events) - 1, -1, -1):  # newest first
        pair.release(index)
    assert status(pair, "getMarketplaceLot", lotId=m.vars.values["lot_1"]) == "awarded"
    assert status(pair, "getProducerBid", bidId=m.vars.values["pbid_1"]) == "won"
    m.settle(Fault.NONE)
    m.holds()
    m.teardown()


def test_a_lot_closed_by_a_sync_before_its_lot_deleted_still_withdraws_the_bids(
    make_pair: Callable[[], InProcessPair],
) -> None:
    """Found by the model on the clean portals: the sync closed the lot, lot.deleted then came
    stale and the producer's bid stayed submitted on a withdrawn lot."""
    m = model(make_pair)
    m.create_lot(1000, publish=True)
    m.submit_bid(0, 0, None)
    m.dispatch(Fault.NONE)
    m.withdraw_lot(0)
    m.sync_marketplace(0)
    pair = m.pair
    assert status(pair, "getMarketplaceLot", lotId=m.vars.values["lot_1"]) == "closed"
    m.settle(Fault.NONE)
    assert status(pair, "getProducerBid", bidId=m.vars.values["pbid_1"]) == "withdrawn"
    m.holds()
    m.teardown()


def test_a_rejection_that_crossed_the_lots_withdrawal_leaves_the_bid_lost_on_both_sides(
    make_pair: Callable[[], InProcessPair],
) -> None:
    """Found by the model: bid.rejected and then lot.deleted, delivered in the other order,
    left the producer's bid withdrawn while the buyer's was rejected."""
    m = model(make_pair)
    m.create_lot(1000, publish=True)
    m.submit_bid(0, 0, None)
    m.dispatch(Fault.NONE)
    m.reject_bid(0)
    m.withdraw_lot(0)
    m.dispatch(Fault.DELAY)
    pair, pbid = m.pair, m.vars.values["pbid_1"]
    assert [h.event for h in pair.network.held] == ["bid.rejected", "lot.deleted"]
    pair.release(1)
    assert status(pair, "getProducerBid", bidId=pbid) == "withdrawn"
    pair.release(0)
    assert status(pair, "getProducerBid", bidId=pbid) == "lost"
    m.settle(Fault.NONE)
    m.holds()
    m.teardown()
