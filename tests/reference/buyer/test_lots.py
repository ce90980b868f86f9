"""Lots: the draft → published → cancelled machine, versions, the producers' marketplace reads,
filters, ordering and pagination."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.reference.buyer.portal import API_KEY, LOT, ORG_A, Portal

pytestmark = pytest.mark.anyio


async def test_a_lot_is_created_as_a_draft_at_version_1(portal: Portal) -> None:
    lot = await portal.draft_lot()
    assert (lot["status"], lot["version"], lot["orgId"]) == ("draft", 1, ORG_A)
    assert lot["createdAt"] == lot["updatedAt"] == "2026-11-25T09:00:00.000Z"
    assert (lot["publishedAt"], lot["volume"], lot["pricing"]) == (
        None,
        LOT["volume"],
        LOT["pricing"],
    )


async def test_publishing_sends_lot_published_and_notifies_the_buyer(portal: Portal) -> None:
    draft = await portal.draft_lot()
    portal.clock.advance(60)
    published = (await portal.op("POST", f"/api/lots/{draft['_id']}/publish")).json()["lot"]
    assert (published["status"], published["version"]) == ("published", 2)
    assert published["publishedAt"] == published["updatedAt"] == "2026-11-25T09:01:00.000Z"
    [event] = await portal.deliveries()
    assert event["event"] == "lot.published"
    assert event["payload"]["lot"] == published
    assert event["payload"]["organization"] == {"_id": ORG_A, "name": "Nordic Air"}
    [note] = (await portal.op("GET", "/api/notifications")).json()["notifications"]
    assert (note["kind"], note["title"], note["lotId"]) == (
        "lot_published",
        "Your lot is now visible to producers",
        draft["_id"],
    )


async def test_updating_a_published_lot_sends_lot_updated_with_the_new_version(
    portal: Portal,
) -> None:
    lot = await portal.published_lot()
    pricing = {"price": 3150000, "currency": "USD", "pricePerUnit": 6.3, "paymentTerms": "Net 30"}
    response = await portal.op(
        "PATCH", f"/api/lots/{lot['_id']}", json={"pricing": pricing, "version": 2}
    )
    updated = response.json()["lot"]
    assert (response.status_code, updated["version"], updated["pricing"]) == (200, 3, pricing)
    assert await portal.events() == ["lot.published", "lot.updated"]
    assert (await portal.deliveries(event="lot.updated"))[0]["payload"]["lot"]["version"] == 3


async def test_updating_a_draft_sends_nothing(portal: Portal) -> None:
    lot = await portal.draft_lot()
    response = await portal.op("PATCH", f"/api/lots/{lot['_id']}", json={"title": "Renamed"})
    assert (response.status_code, response.json()["lot"]["title"]) == (200, "Renamed")
    assert await portal.events() == []


async def test_a_new_volume_keeps_the_unit_price_and_recomputes_the_total(portal: Portal) -> None:
    lot = await portal.draft_lot()
    volume = {"volume": {"amount": 1000, "unit": "gallons"}}
    response = await portal.op("PATCH", f"/api/lots/{lot['_id']}", json=volume)
    assert response.json()["lot"]["pricing"] == {**LOT["pricing"], "price": 6500}


async def test_a_stale_version_is_a_409_and_changes_nothing(portal: Portal) -> None:
    lot = await portal.published_lot()
    response = await portal.op(
        "PATCH", f"/api/lots/{lot['_id']}", json={"title": "Late", "version": 1}
    )
    assert (response.status_code, response.json()["code"]) == (409, "version_conflict")
    assert await portal.lot(lot["_id"]) == lot


@pytest.mark.parametrize(
    "body",
    [
        {**LOT, "pricing": {**LOT["pricing"], "price": 3250000.02}},
        {**LOT, "volume": {"amount": 1000, "unit": "gallons"}},
    ],
)
async def test_inconsistent_pricing_is_refused_with_the_field(
    portal: Portal, body: dict[str, Any]
) -> None:
    response = await portal.op("POST", "/api/lots", json=body)
    problem = response.json()
    assert (response.status_code, problem["code"]) == (422, "inconsistent_pricing")
    assert problem["errors"][0]["field"] == "/pricing/price"
    assert (await portal.op("GET", "/api/lots")).json()["count"] == 0


async def test_pricing_within_a_cent_is_consistent(portal: Portal) -> None:
    body = {**LOT, "pricing": {**LOT["pricing"], "price": 3250000.01}}
    assert (await portal.op("POST", "/api/lots", json=body)).status_code == 201


async def test_unknown_fields_are_refused(portal: Portal) -> None:
    response = await portal.op("POST", "/api/lots", json={**LOT, "colour": "green"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "/colour", "message": "is not allowed"}]


@pytest.mark.parametrize(
    ("action", "method", "suffix", "body"),
    [
        ("publish twice", "POST", "/publish", None),
        ("update a withdrawn lot", "PATCH", "", {"title": "x"}),
        ("withdraw twice", "DELETE", "", None),
    ],
)
async def test_an_illegal_transition_is_a_409_and_changes_nothing(
    portal: Portal, action: str, method: str, suffix: str, body: dict[str, Any] | None
) -> None:
    lot = await portal.published_lot()
    if action != "publish twice":
        await portal.op("DELETE", f"/api/lots/{lot['_id']}")
    before, events = await portal.lot(lot["_id"]), await portal.events()
    response = await portal.op(method, f"/api/lots/{lot['_id']}{suffix}", json=body)
    problem = response.json()
    assert (response.status_code, problem["code"]) == (409, "illegal_transition"), action
    assert problem["currentState"] == before["status"]
    assert await portal.lot(lot["_id"]) == before
    assert await portal.events() == events


async def test_withdrawing_a_published_lot_withdraws_its_open_bids_and_counter_offers(
    portal: Portal,
) -> None:
    lot = await portal.published_lot()
    pending = await portal.bid(lot, "ext-1")
    countered = await portal.bid(lot, "ext-2")
    counter = {"volume": {"amount": 1000, "unit": "gallons"}, "pricePerUnit": 6.4}
    await portal.op("POST", f"/api/bids/{countered['_id']}/counter", json=counter)
    response = await portal.op("DELETE", f"/api/lots/{lot['_id']}")
    assert (response.status_code, response.json()["lot"]["status"]) == (200, "cancelled")
    assert (await portal.bid_detail(pending["_id"]))["bid"]["status"] == "withdrawn"
    detail = await portal.bid_detail(countered["_id"])
    assert (detail["bid"]["status"], detail["counterOffer"]["status"]) == ("withdrawn", "withdrawn")
    assert (await portal.events())[-1] == "lot.deleted"
    seen = await portal.producer("GET", f"/api/lots/external/{lot['_id']}")
    assert seen.json()["lot"]["status"] == "cancelled"


async def test_withdrawing_a_draft_tells_nobody(portal: Portal) -> None:
    lot = await portal.draft_lot()
    assert (await portal.op("DELETE", f"/api/lots/{lot['_id']}")).json()["lot"][
        "status"
    ] == "cancelled"
    assert await portal.events() == []


async def test_a_lot_with_an_accepted_bid_cannot_be_withdrawn(portal: Portal) -> None:
    lot = await portal.published_lot()
    bid = await portal.bid(lot)
    await portal.op("PUT", f"/api/bids/{bid['_id']}", json={"status": "accepted"})
    response = await portal.op("DELETE", f"/api/lots/{lot['_id']}")
    assert (response.status_code, response.json()["currentState"]) == (409, "sold")


# ---------------------------------------------------------------------------------- marketplace


async def test_producers_never_see_drafts(portal: Portal) -> None:
    draft = await portal.draft_lot()
    published = await portal.published_lot()
    listed = (await portal.producer("GET", "/api/lots/external")).json()
    assert [lot["_id"] for lot in listed["lots"]] == [published["_id"]]
    assert (await portal.producer("GET", f"/api/lots/external/{draft['_id']}")).status_code == 404
    by_org = (await portal.producer("GET", "/api/lots/external", params={"orgId": ORG_A})).json()
    assert by_org["count"] == 1
    draft_status = await portal.producer("GET", "/api/lots/external", params={"status": "draft"})
    assert draft_status.status_code == 400


async def test_the_marketplace_accepts_the_bearer_form_of_the_key(portal: Portal) -> None:
    await portal.published_lot()
    headers = {"Authorization": f"Bearer {portal.settings.api_key}"}
    params = {"status": "published"}
    response = await portal.client.get("/api/lots/external", params=params, headers=headers)
    assert (response.status_code, response.json()["count"]) == (200, 1)


async def test_marketplace_filters_combine(portal: Portal) -> None:
    cheap = await portal.published_lot(
        title="Cheap ethanol lot",
        type="ATJ-SPK",
        volume={"amount": 1000, "unit": "gallons"},
        pricing={"price": 5000, "currency": "USD", "pricePerUnit": 5},
        compliance={"standards": ["RSB"]},
    )
    dear = await portal.published_lot(description="Certified 100% HEFA")
    assert await _ids(portal, {"type": "ATJ-SPK"}) == [cheap["_id"]]
    assert await _ids(portal, {"minPrice": 10000}) == [dear["_id"]]
    assert await _ids(portal, {"maxPrice": 5000}) == [cheap["_id"]]
    assert await _ids(portal, {"standards": ["ISCC-EU", "CORSIA"]}) == [dear["_id"]]
    assert await _ids(portal, {"standards": ["ISCC-EU", "RSB"]}) == []
    assert await _ids(portal, {"search": "certified 100%"}) == [dear["_id"]]
    assert await _ids(portal, {"search": "ETHANOL"}) == [cheap["_id"]]
    assert await _ids(portal, {"search": "%"}) == [dear["_id"]]
    assert await _ids(portal, {"search": "_"}) == []
    assert await _ids(portal, {"search": "\\"}) == []


async def _ids(portal: Portal, query: dict[str, Any]) -> list[str]:
    response = await portal.producer(
        "GET", "/api/lots/external", params={"status": "published", **query}
    )
    assert response.status_code == 200, response.text
    return [lot["_id"] for lot in response.json()["lots"]]


async def test_lists_are_newest_first_with_the_total_count_and_pages(portal: Portal) -> None:
    made = []
    for index in range(5):
        made.append((await portal.published_lot(title=f"Lot {index}"))["_id"])
        portal.clock.advance(1)
    params = {"limit": 2, "offset": 1}
    page = (await portal.producer("GET", "/api/lots/external", params=params)).json()
    assert page["count"] == 5
    assert [lot["_id"] for lot in page["lots"]] == [made[3], made[2]]
    beyond = (await portal.op("GET", "/api/lots", params={"offset": 10})).json()
    assert beyond == {"lots": [], "count": 5}
    listed = (
        await portal.op("GET", "/api/lots", params={"status": "published", "limit": 1})
    ).json()
    assert (listed["count"], listed["lots"][0]["_id"]) == (5, made[4])


async def test_lots_made_in_the_same_instant_keep_their_order(portal: Portal) -> None:
    first, second = await portal.draft_lot(), await portal.draft_lot()
    listed = (await portal.op("GET", "/api/lots")).json()["lots"]
    assert [lot["_id"] for lot in listed] == [second["_id"], first["_id"]]


async def test_marketplace_reads_follow_every_change_including_other_processes(
    portal: Portal,
) -> None:
    """Repeated marketplace reads are answered from a cache keyed on the database's change
    counter; no answer may outlive a change, whoever commits it."""
    from lotflow.reference.buyer.tables import lots

    from lotflow.db import Database

    lot = await portal.published_lot()
    answers = portal.ctx.answers
    made_before = answers.made

    def queries() -> int:
        """Answers made by querying the tables since the test began (not from the cache)."""
        return answers.made - made_before

    async def titles() -> list[str]:
        listed = (await portal.producer("GET", "/api/lots/external")).json()["lots"]
        return [entry["title"] for entry in listed]

    async def one_title() -> str:
        found = await portal.producer("GET", f"/api/lots/external/{lot['_id']}")
        return str(found.json()["lot"]["title"])

    assert await titles() == [LOT["title"]]
    assert await titles() == [LOT["title"]]  # the repeat, from the cache
    assert portal.ctx.db.change_counter("lots") is not None  # a SQLite file or PostgreSQL
    assert queries() == 1
    assert await one_title() == LOT["title"]
    await portal.bid(lot)  # commits, but changes no lot: the cached answer stays
    assert await titles() == [LOT["title"]]
    assert queries() == 2  # the one-lot read is an answer of its own
    changed = await portal.op("PATCH", f"/api/lots/{lot['_id']}", json={"title": "Changed here"})
    assert changed.status_code == 200, changed.text
    assert await titles() == ["Changed here"]
    assert await one_title() == "Changed here"
    other = Database(portal.ctx.db.url.render_as_string(hide_password=False))  # another process
    try:
        with other.write() as conn:
            doc = conn.execute(lots.select().where(lots.c.id == lot["_id"])).one().doc
            conn.execute(
                lots.update()
                .where(lots.c.id == lot["_id"])
                .values(doc=doc.replace("Changed here", "Changed elsewhere"))
            )
    finally:
        other.dispose()
    assert await titles() == ["Changed elsewhere"]
    assert await one_title() == "Changed elsewhere"
    second = await portal.published_lot(title="A second lot")
    assert await titles() == ["A second lot", "Changed elsewhere"]
    await portal.op("DELETE", f"/api/lots/{second['_id']}")
    assert await titles() == ["Changed elsewhere"]


async def test_without_the_answer_cache_every_marketplace_read_queries_the_tables(
    tmp_path: Path,
) -> None:
    from lotflow.clock import FakeClock
    from tests.reference.buyer.portal import START, make_app

    app = make_app(tmp_path, FakeClock(START), LOTFLOW_ANSWER_CACHE="0")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://buyer.test") as client:
        for _ in range(3):
            listed = await client.get("/api/lots/external", headers={"X-API-Key": API_KEY})
            assert listed.json() == {"lots": [], "count": 0}
    answers = app.state.buyer.answers
    app.state.buyer.db.dispose()
    assert answers.made == 3
