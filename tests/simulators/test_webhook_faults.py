"""Each webhook fault of the buyer simulator, observed on the wire by a receiver that records
what arrived (and, where it matters, what the simulator's own record says)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from lotflow.simulators import WEBHOOK_FAULTS, BuyerSimulator

from lotflow.clock import FakeClock, SystemClock
from lotflow.errors import InvalidSignatureError, MissingSignatureError, StaleTimestampError
from lotflow.serving import ServerThread
from lotflow.signing import WebhookVerifier
from tests.simulators.receiver import Arrival, RecordingReceiver


@pytest.fixture(scope="module")
def receiver() -> Iterator[RecordingReceiver]:
    recorder = RecordingReceiver()
    with ServerThread(recorder.app) as server:
        recorder.url = server.url  # type: ignore[attr-defined]
        yield recorder


@pytest.fixture(scope="module")
def sim(receiver: RecordingReceiver) -> Iterator[BuyerSimulator]:
    with BuyerSimulator(receiver.url, backoff_base=0.05, backoff_cap=0.2) as simulator:  # type: ignore[attr-defined]
        yield simulator


@pytest.fixture
def faults(sim: BuyerSimulator) -> Iterator[object]:
    yield None
    sim.use_faults("{}")


def fault(sim: BuyerSimulator, name: str, **params: object) -> None:
    sim.use_faults(json.dumps({"webhooks": [{"fault": name, **params}]}))


def verify(sim: BuyerSimulator, arrival: Arrival, clock: object = None) -> str:
    verifier = WebhookVerifier([sim.secret], clock or SystemClock())  # type: ignore[arg-type]
    return verifier.verify(arrival.headers, arrival.body)


def recorded(sim: BuyerSimulator, webhook_id: str, since: int, count: int = 1) -> list[object]:
    """The simulator's record of a webhook's attempts, once ``count`` answers are in its log."""
    sim.log.wait_until(lambda: sum(d.webhook_id == webhook_id for d in sim.log.since()) >= count, 5)
    return [e for e in sim.exchanges()[since:] if e.webhook_id == webhook_id]


def published(sim: BuyerSimulator, receiver: RecordingReceiver) -> Arrival:
    """Publish a lot; what arrived of its one webhook."""
    mark = receiver.mark()
    sim.publish_lot()
    (arrival,) = receiver.wait_for(1, mark)
    return arrival


def event(arrival: Arrival) -> str:
    return str(json.loads(arrival.body)["event"])


def test_delay_holds_the_webhook_back(
    sim: BuyerSimulator, receiver: RecordingReceiver, faults: object
) -> None:
    fault(sim, "delay", ms=300)
    mark, started = receiver.mark(), time.monotonic()
    sim.publish_lot()
    (arrival,) = receiver.wait_for(1, mark)
    assert arrival.at - started >= 0.3


def test_drop_loses_the_attempt_and_the_sender_retries(
    sim: BuyerSimulator, receiver: RecordingReceiver, faults: object
) -> None:
    fault(sim, "drop")
    mark, before = receiver.mark(), len(sim.exchanges())
    sim.publish_lot()
    (arrival,) = receiver.wait_for(1, mark)
    attempts: list[Any] = recorded(sim, arrival.webhook_id, before)
    assert [(e.attempt, e.status, e.faults) for e in attempts] == [
        (1, None, ("drop",)),
        (2, 200, ()),
    ]
    assert "dropped" in (attempts[0].error or "")


def test_a_silent_drop_never_arrives(
    sim: BuyerSimulator, receiver: RecordingReceiver, faults: object
) -> None:
    fault(sim, "drop", silent=True)
    mark = receiver.mark()
    lost = sim.publish_lot(title="Lost")
    kept = sim.publish_lot(title="Kept")
    arrivals = receiver.wait_for(1, mark)
    ids = [json.loads(a.body)["lot"]["_id"] for a in arrivals]
    assert ids == [kept["_id"]]
    assert lost["_id"] not in ids


def test_duplicate_sends_the_same_webhook_several_times(
    sim: BuyerSimulator, receiver: RecordingReceiver, faults: object
) -> None:
    fault(sim, "duplicate", copies=3)
    mark = receiver.mark()
    sim.publish_lot()
    arrivals = receiver.wait_for(3, mark)
    assert len(arrivals) == 3
    assert len({a.webhook_id for a in arrivals}) == 1
    assert len({a.body for a in arrivals}) == 1


def test_reorder_sends_a_webhook_after_the_next_one(
    sim: BuyerSimulator, receiver: RecordingReceiver, faults: object
) -> None:
    fault(sim, "reorder", ms=10000)
    mark = receiver.mark()
    first = sim.publish_lot(title="First")
    second = sim.publish_lot(title="Second")
    arrivals = receiver.wait_for(2, mark)
    assert [json.loads(a.body)["lot"]["_id"] for a in arrivals] == [second["_id"], first["_id"]]


def test_bad_signature_does_not_verify(
    sim: BuyerSimulator, receiver: RecordingReceiver, faults: object
) -> None:
    fault(sim, "bad-signature")
    arrival = published(sim, receiver)
    with pytest.raises(InvalidSignatureError):
        verify(sim, arrival)


def test_stale_timestamp_is_signed_but_too_old(
    sim: BuyerSimulator, receiver: RecordingReceiver, faults: object
) -> None:
    fault(sim, "stale-timestamp", age=900)
    arrival = published(sim, receiver)
    stamp = int(arrival.headers["webhook-timestamp"])
    assert time.time() - stamp >= 899
    with pytest.raises(StaleTimestampError):
        verify(sim, arrival)
    then = FakeClock(datetime.fromtimestamp(stamp, UTC))
    assert verify(sim, arrival, then) == arrival.webhook_id  # the signature itself is right


def test_wrong_secret_signs_with_another_key(
    sim: BuyerSimulator, receiver: RecordingReceiver, faults: object
) -> None:
    fault(sim, "wrong-secret")
    arrival = published(sim, receiver)
    assert abs(time.time() - int(arrival.headers["webhook-timestamp"])) < 60
    with pytest.raises(InvalidSignatureError):
        verify(sim, arrival)


def test_missing_headers_leaves_out_the_named_ones(
    sim: BuyerSimulator, receiver: RecordingReceiver, faults: object
) -> None:
    fault(sim, "missing-headers", headers=["webhook-signature"])
    arrival = published(sim, receiver)
    assert "webhook-signature" not in arrival.headers
    assert {"webhook-id", "webhook-timestamp"} <= arrival.headers.keys()
    with pytest.raises(MissingSignatureError):
        verify(sim, arrival)


def test_legacy_bearer_sends_the_static_secret(
    sim: BuyerSimulator, receiver: RecordingReceiver, faults: object
) -> None:
    fault(sim, "legacy-bearer")
    arrival = published(sim, receiver)
    assert arrival.headers["authorization"] == f"Bearer {sim.secret}"
    assert "webhook-signature" not in arrival.headers


def test_malformed_body_is_not_json_but_signed(
    sim: BuyerSimulator, receiver: RecordingReceiver, faults: object
) -> None:
    fault(sim, "malformed-body")
    arrival = published(sim, receiver)
    with pytest.raises(json.JSONDecodeError):
        json.loads(arrival.body)
    assert verify(sim, arrival) == arrival.webhook_id


def test_truncated_body_is_cut_and_no_longer_matches_its_signature(
    sim: BuyerSimulator, receiver: RecordingReceiver, faults: object
) -> None:
    fault(sim, "truncated-body")
    mark, before = receiver.mark(), len(sim.exchanges())
    sim.publish_lot()
    (arrival,) = receiver.wait_for(1, mark)
    (sent,) = recorded(sim, arrival.webhook_id, before)
    assert sent.faults == ("truncated-body",)  # type: ignore[attr-defined]
    assert arrival.body == sent.request_body
    assert len(arrival.body) > 0
    with pytest.raises(json.JSONDecodeError):
        json.loads(arrival.body)
    with pytest.raises(InvalidSignatureError):
        verify(sim, arrival)


def test_unknown_event_comes_first_under_its_own_id(
    sim: BuyerSimulator, receiver: RecordingReceiver, faults: object
) -> None:
    fault(sim, "unknown-event", type="lot.audited")
    mark = receiver.mark()
    sim.publish_lot()
    unknown, real = receiver.wait_for(2, mark)
    assert (event(unknown), event(real)) == ("lot.audited", "lot.published")
    assert unknown.webhook_id != real.webhook_id
    assert json.loads(unknown.body)["eventId"] == unknown.webhook_id
    assert verify(sim, unknown) == unknown.webhook_id


def test_stale_version_resends_the_previous_event_after_a_newer_one(
    sim: BuyerSimulator, receiver: RecordingReceiver, faults: object
) -> None:
    mark = receiver.mark()
    lot = sim.publish_lot()
    receiver.wait_for(1, mark)
    sim.use_faults(json.dumps({"webhooks": [{"fault": "stale-version", "event": "lot.updated"}]}))
    sim.update_lot(lot["_id"], title="Renamed")
    published, updated, older = receiver.wait_for(3, mark)
    assert [event(a) for a in (published, updated, older)] == [
        "lot.published",
        "lot.updated",
        "lot.published",
    ]
    assert json.loads(older.body)["lot"]["version"] < json.loads(updated.body)["lot"]["version"]
    assert older.webhook_id not in (published.webhook_id, updated.webhook_id)
    assert verify(sim, older) == older.webhook_id


def test_an_outage_sends_nothing_and_the_sender_retries_after_it(
    sim: BuyerSimulator, receiver: RecordingReceiver
) -> None:
    sim.down = True
    mark = receiver.mark()
    sim.publish_lot()
    assert sim.log.wait_until(lambda: any(not d.forwarded for d in sim.log.since()), 5)
    assert receiver.mark() == mark
    sim.down = False
    (arrival,) = receiver.wait_for(1, mark)
    assert event(arrival) == "lot.published"


COVERED = {
    "delay": test_delay_holds_the_webhook_back,
    "drop": test_drop_loses_the_attempt_and_the_sender_retries,
    "duplicate": test_duplicate_sends_the_same_webhook_several_times,
    "reorder": test_reorder_sends_a_webhook_after_the_next_one,
    "bad-signature": test_bad_signature_does_not_verify,
    "stale-timestamp": test_stale_timestamp_is_signed_but_too_old,
    "wrong-secret": test_wrong_secret_signs_with_another_key,
    "missing-headers": test_missing_headers_leaves_out_the_named_ones,
    "legacy-bearer": test_legacy_bearer_sends_the_static_secret,
    "malformed-body": test_malformed_body_is_not_json_but_signed,
    "truncated-body": test_truncated_body_is_cut_and_no_longer_matches_its_signature,
    "unknown-event": test_unknown_event_comes_first_under_its_own_id,
    "stale-version": test_stale_version_resends_the_previous_event_after_a_newer_one,
}


def test_every_webhook_fault_has_a_test_above() -> None:
    assert set(COVERED) == set(WEBHOOK_FAULTS)


def test_a_reordered_webhook_with_none_after_it_goes_when_its_hold_ends(
    sim: BuyerSimulator, receiver: RecordingReceiver, faults: object
) -> None:
    fault(sim, "reorder", ms=250)
    mark, started = receiver.mark(), time.monotonic()
    lot = sim.publish_lot(title="Held alone")
    (arrival,) = receiver.wait_for(1, mark)
    assert json.loads(arrival.body)["lot"]["_id"] == lot["_id"]
    assert arrival.at - started >= 0.25


def test_webhooks_wait_for_dispatch_when_the_dispatcher_is_off(receiver: RecordingReceiver) -> None:
    with BuyerSimulator(receiver.url, dispatcher_enabled=False) as held:  # type: ignore[attr-defined]
        mark = receiver.mark()
        held.publish_lot()
        assert receiver.mark() == mark
        assert held.dispatch() >= 1
        (arrival,) = receiver.wait_for(1, mark)
        assert event(arrival) == "lot.published"
