"""The receivers: signatures (six cases on every receiver), duplicates, stale versions, unknown
events."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from lotflow.clock import FakeClock
from tests.fixtures.producer import (
    LOT_ID,
    ROTATED,
    SECRET,
    START,
    Producer,
    ScriptedBuyer,
    buyer_bid,
    buyer_lot,
    contract_of,
    make_producer_app,
)

pytestmark = pytest.mark.anyio

RECEIVERS = {
    "/api/webhooks/lots": {
        "event": "lot.published",
        "lot": buyer_lot(),
        "organization": {"_id": buyer_lot()["orgId"], "name": "Nordic Air"},
    },
    "/api/webhooks/bids": {
        "event": "bid.rejected",
        "bid": buyer_bid("unknown-ext"),
        "lot": buyer_lot(),
    },
    "/api/webhooks/contracts": {
        "event": "contract.created",
        "contract": contract_of(buyer_bid("x")),
        "bid": buyer_bid("x"),
        "lot": buyer_lot(),
    },
}
WRONG = "whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA=="


def flip_last_byte(body: bytes) -> bytes:
    return body[:-2] + b" }"


@pytest.mark.parametrize("path", list(RECEIVERS))
@pytest.mark.parametrize(
    ("case", "kwargs", "status", "code"),
    [
        ("valid", {}, 200, None),
        ("valid under the rotated second secret", {"secret": ROTATED}, 200, None),
        ("tampered body", {"tamper": flip_last_byte}, 401, "invalid_signature"),
        ("wrong secret", {"secret": WRONG}, 401, "invalid_signature"),
        ("timestamp too old", {"shift": -301}, 401, "stale_signature"),
        ("timestamp too far ahead", {"shift": 301}, 401, "stale_signature"),
    ],
)
async def test_signature_vector(
    producer: Producer,
    path: str,
    case: str,
    kwargs: dict[str, object],
    status: int,
    code: str | None,
) -> None:
    """Each refusal names its reason as the spec's problem codes say, so a sender can tell a
    wrong secret from a clock that drifted."""
    response = await producer.deliver(path, RECEIVERS[path], **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, (case, response.text)
    if status == 401:
        assert response.json()["code"] == code
        assert (await producer.op("GET", "/api/marketplace/lots")).json()["count"] == 0


@pytest.mark.parametrize("path", list(RECEIVERS))
async def test_missing_signature_headers_are_401(producer: Producer, path: str) -> None:
    response = await producer.client.post(
        path, json={"eventId": "msg_1234567890", **RECEIVERS[path]}
    )
    assert response.status_code == 401
    assert "webhook-" in response.json()["detail"] or "Missing" in response.json()["detail"]


async def test_the_legacy_profile_accepts_todays_static_bearer(tmp_path: Path) -> None:
    clock, buyer = FakeClock(START), ScriptedBuyer()
    app = make_producer_app(tmp_path, clock, buyer, LOTFLOW_WEBHOOK_AUTH="legacy-bearer")
    body = {
        "event": "lot.published",
        "eventId": "msg_legacy000001",
        "timestamp": "2026-11-25T09:00:00Z",
        **{k: v for k, v in RECEIVERS["/api/webhooks/lots"].items() if k != "event"},
    }
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://p"
    ) as client:
        assert (
            await client.post(
                "/api/webhooks/lots", json=body, headers={"Authorization": f"Bearer {SECRET}"}
            )
        ).status_code == 200
        assert (
            await client.post(
                "/api/webhooks/lots", json=body, headers={"Authorization": "Bearer nope"}
            )
        ).status_code == 401


async def test_a_duplicate_delivery_is_acknowledged_and_changes_nothing(producer: Producer) -> None:
    first = await producer.lot_event("lot.published", buyer_lot(), webhook_id="msg_samesame0001")
    again = await producer.lot_event(
        "lot.updated", buyer_lot(version=3, title="changed"), webhook_id="msg_samesame0001"
    )
    assert first.json()["applied"] is True
    assert (again.status_code, again.json()["duplicate"], again.json()["applied"]) == (
        200,
        True,
        False,
    )
    lot = (await producer.op("GET", f"/api/marketplace/lots/{LOT_ID}")).json()["lot"]
    assert (lot["version"], lot["title"]) == (2, "HEFA-SPK SAF")


async def test_an_older_version_arriving_late_is_ignored(producer: Producer) -> None:
    await producer.lot_event("lot.updated", buyer_lot(version=3, title="newer"))
    late = await producer.lot_event("lot.published", buyer_lot(version=2, title="older"))
    assert (late.json()["applied"], late.json()["note"]) == (False, "stale lot version 2 (have 3)")
    lot = (await producer.op("GET", f"/api/marketplace/lots/{LOT_ID}")).json()["lot"]
    assert (lot["version"], lot["title"], lot["status"]) == (3, "newer", "open")


async def test_an_unknown_event_is_acknowledged_without_acting(producer: Producer) -> None:
    response = await producer.deliver(
        "/api/webhooks/lots", {"event": "lot.archived", "lot": {"_id": LOT_ID}}
    )
    assert (response.status_code, response.json()["applied"]) == (200, False)
    assert "unknown event type" in response.json()["note"]


async def test_an_event_sent_to_the_wrong_receiver_is_a_422(producer: Producer) -> None:
    response = await producer.deliver("/api/webhooks/lots", RECEIVERS["/api/webhooks/bids"])
    assert response.status_code == 422


async def test_a_malformed_payload_is_a_4xx_problem(producer: Producer) -> None:
    response = await producer.deliver(
        "/api/webhooks/bids", {"event": "bid.accepted", "bid": {"_id": 5}}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_bid_events_move_the_producers_bid_and_an_out_of_order_counter_is_dropped(
    producer: Producer,
) -> None:
    await producer.lot_event("lot.published", buyer_lot())
    mine = await producer.my_bid()
    accepted = buyer_bid(
        mine["externalBidId"], version=3, status="accepted", contractId="6750a4f0e4b0f1a2b3c4d999"
    )
    await producer.bid_event("bid.accepted", accepted, contract=contract_of(accepted))
    stale = await producer.bid_event(
        "bid.counter_offer", buyer_bid(mine["externalBidId"], version=2, status="countered")
    )
    assert stale.json()["applied"] is False
    bid = (await producer.op("GET", f"/api/producer/bids/{mine['_id']}")).json()["bid"]
    assert (bid["status"], bid["contractId"]) == ("won", "6750a4f0e4b0f1a2b3c4d999")
    lot = (await producer.op("GET", f"/api/marketplace/lots/{LOT_ID}")).json()["lot"]
    assert lot["status"] == "awarded"


async def test_the_contract_is_created_once_whichever_message_comes_first(
    producer: Producer,
) -> None:
    mine = await producer.my_bid()
    accepted = buyer_bid(mine["externalBidId"], version=2, status="accepted")
    contract = contract_of(accepted)
    first = await producer.deliver(
        "/api/webhooks/contracts",
        {
            "event": "contract.created",
            "contract": contract,
            "bid": accepted,
            "lot": buyer_lot(status="sold", version=3),
        },
    )
    second = await producer.bid_event("bid.accepted", accepted, contract=contract)
    assert first.json()["applied"] is True
    assert second.status_code == 200
    contracts = (await producer.op("GET", "/api/producer/contracts")).json()
    assert contracts["count"] == 1
    assert contracts["contracts"][0]["status"] == "draft"
    assert (await producer.op("GET", f"/api/producer/bids/{mine['_id']}")).json()["bid"][
        "status"
    ] == "won"
    assert (await producer.op("GET", "/api/producer/contracts", token="producer-token-b")).json()[
        "count"
    ] == 0


async def test_lot_deleted_closes_the_lot_and_withdraws_open_bids(producer: Producer) -> None:
    await producer.lot_event("lot.published", buyer_lot())
    mine = await producer.my_bid()
    await producer.lot_event("lot.deleted", buyer_lot(version=3, status="cancelled"))
    assert (await producer.op("GET", f"/api/marketplace/lots/{LOT_ID}")).json()["lot"][
        "status"
    ] == "closed"
    assert (await producer.op("GET", f"/api/producer/bids/{mine['_id']}")).json()["bid"][
        "status"
    ] == "withdrawn"
    kinds = [
        n["kind"]
        for n in (await producer.op("GET", "/api/producer/notifications")).json()["notifications"]
    ]
    assert kinds[0] == "lot_withdrawn"
    assert "lot_available" in kinds


LOT_SECRET = "whsec_bG90LXNlY3JldC1vZi10aGUtbWFya2V0cGxhY2U="


@pytest.mark.parametrize(
    ("path", "right", "wrong"),
    [
        ("/api/webhooks/lots", LOT_SECRET, SECRET),
        ("/api/webhooks/bids", SECRET, LOT_SECRET),
        ("/api/webhooks/contracts", SECRET, LOT_SECRET),
    ],
)
async def test_each_receiver_verifies_with_the_secrets_of_its_operation(
    tmp_path: Path, path: str, right: str, wrong: str
) -> None:
    """receiveLotWebhook takes the lot secrets (MARKETPLACE_WEBHOOK_SECRET), the others the bid
    secrets: the verifier is bound to the operation when the app is built."""
    clock, buyer = FakeClock(START), ScriptedBuyer()
    app = make_producer_app(tmp_path, clock, buyer, MARKETPLACE_WEBHOOK_SECRET=LOT_SECRET)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://producer.test"
    ) as client:
        producer = Producer(app, clock, buyer, client)
        refused = await producer.deliver(path, RECEIVERS[path], secret=wrong)
        assert (refused.status_code, refused.json()["code"]) == (401, "invalid_signature")
        stale = await producer.deliver(path, RECEIVERS[path], secret=right, shift=-301)
        assert (stale.status_code, stale.json()["code"]) == (401, "stale_signature")
        accepted = await producer.deliver(path, RECEIVERS[path], secret=right)
        assert accepted.status_code == 200, accepted.text


@pytest.mark.parametrize("digits", [309, 4301])
@pytest.mark.parametrize("path", sorted(RECEIVERS))
async def test_a_timestamp_of_hundreds_of_digits_is_refused_before_it_is_parsed(
    producer: Producer, path: str, digits: int
) -> None:
    """A float overflows at 309 digits and int() refuses 4,301: the header's maxLength holds
    before the signature check, and no answer is a 5xx."""
    body = b'{"event":"lot.published"}'
    headers = {
        "webhook-id": "msg_2Kq4eJ3m1yqgX9u0hZa3Vb",
        "webhook-timestamp": "9" * digits,
        "webhook-signature": "v1,AAAA",
        "content-type": "application/json",
    }
    response = await producer.client.post(path, content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "webhook-timestamp"


async def test_the_verifier_refuses_an_overlong_timestamp_as_an_invalid_signature() -> None:
    """Defence in depth, for callers that do not bound headers first (the simulators)."""
    from lotflow.errors import InvalidSignatureError
    from lotflow.signing import WebhookVerifier

    verifier = WebhookVerifier([SECRET], FakeClock(START))
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "9" * 4301, "webhook-signature": "v1,A"}
    with pytest.raises(InvalidSignatureError, match="at most 12 digits"):
        verifier.verify(headers, b"{}")


async def test_the_receivers_never_call_the_buyer(producer: Producer) -> None:
    """They run inline on the event loop (group commit on SQLite): a call to another party
    there would hold every request behind it. Every event, on a bid of this portal's own."""
    mine = await producer.my_bid()
    calls_before = len(producer.buyer.calls)  # submitting the bid called the buyer, as it should
    theirs = buyer_bid(mine["externalBidId"], version=2)
    answers = [
        await producer.lot_event("lot.published", buyer_lot()),
        await producer.lot_event("lot.updated", buyer_lot(version=3)),
        await producer.bid_event("bid.accepted", buyer_bid(mine["externalBidId"], version=3)),
        await producer.deliver(
            "/api/webhooks/contracts",
            {
                "event": "contract.created",
                "contract": contract_of(theirs),
                "bid": theirs,
                "lot": buyer_lot(),
            },
        ),
        await producer.lot_event("lot.deleted", buyer_lot(version=4, status="cancelled")),
    ]
    assert [a.status_code for a in answers] == [200] * 5
    assert len(producer.buyer.calls) == calls_before
