"""The HTTP pact, producer portal → buyer API: its interactions and the consumer scenarios.

Each interaction is declared from the spec (the operation's path and method, bodies from the
schemas' examples, matchers chosen by the schemas) with a provider state named after the
workflow. Each scenario declares the interactions it needs on a fresh Pact, drives the reference
producer's real code against Pact's mock server and checks what the producer made of the
answers; ``tests.contracts.generate`` runs every scenario into one pact file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pact import Pact, generate
from pact.match.matcher import GenericMatcher

from lotflow.client import SpecClient
from lotflow.ids import new_event_id, new_object_id
from lotflow.openapi import load_portal_spec, operations
from lotflow.pact import states
from lotflow.pact.examples import composed, example, matching, path_from_state, schema_named
from lotflow.pact.names import CONSUMER, HTTP_PROVIDER
from tests.contracts.producer_side import OutageTransport, ProducerUnderTest, producer

SPEC = load_portal_spec("buyer")
OPS = operations(SPEC)
OBJECT_ID = schema_named(SPEC, "ObjectId")["pattern"].strip("^$")
PROBLEM = "application/problem+json"


def api_key() -> GenericMatcher[Any]:
    """The X-API-Key header: any string here, the provider's real key when verified."""
    return GenericMatcher(
        "type", "producer-api-key", generator=generate.provider_state("${apiKey}")
    )


def _path(operation: str, **values: str) -> Any:
    """The operation's path, each ``{param}`` an id the provider state supplies (recorded with
    the example id ``values[param]``)."""
    path = OPS[operation].path
    example_path = re.sub(r"\{([^{}]+)\}", lambda m: values[m.group(1)], path)
    template = re.sub(r"\{([^{}]+)\}", r"${\1}", path)
    regex = "^" + re.sub(r"\{[^{}]+\}", f"({OBJECT_ID})", path) + "$"
    return path_from_state(example_path, template, regex)


def _body(schema: str, value: Any, *, exact: Iterable[str] = (), **inject: str) -> Any:
    """``value`` as matchers by component ``schema``; ``inject`` maps top-level members to the
    provider-state expression that fills them."""
    return matching(
        SPEC,
        schema_named(SPEC, schema),
        value,
        exact=frozenset(exact),
        inject={f"/{k}": v for k, v in inject.items()},
    )


def _problem(status: int, code: str | None, *, field_errors: bool = False) -> Any:
    """A problem body: ``status`` (and ``code``, when the consumer passes it on) exact."""
    value = {"type": "about:blank", "title": "Refused", "status": status}
    if code:
        value["code"] = code
    if field_errors:
        value["errors"] = [example(SPEC, "FieldError")]
    pinned = {"/status", "/code"} if code else {"/status"}
    return _body("Problem", value, exact=pinned)


def _get(pact: Pact, description: str, state: str, path: Any) -> Any:
    """A GET with the producer's key, given ``state``."""
    return (
        pact.upon_receiving(description)
        .given(state)
        .with_request("GET", path)
        .with_header("X-API-Key", api_key())
    )


# ---------------------------------------------------------------------------- interactions
LIST_PUBLISHED = "a request for the published lots"
LIST_FILTERED = "a request for published lots filtered by type, price and standard"
READ_LOT = "a request for a published lot"
READ_MISSING_LOT = "a request for a lot that does not exist"
NO_KEY = "a request for the published lots without an API key"
SUBMIT = "a bid submission"
RESUBMIT = "a repeated submission of the same bid"
OTHER_TERMS = "a submission reusing an externalBidId with other terms"
LOT_SOLD = "a bid submission on a lot that is sold"
TOO_LARGE = "a bid submission larger than the lot"
READ_BID = "a request for a submitted bid's status"
ACCEPT_COUNTER = "an acceptance of the pending counter-offer"
DECLINE_COUNTER = "a refusal of the pending counter-offer"
READ_CONTRACT = "a request for a contract made from a bid"


Declare = Callable[[Pact], None]
DESCRIPTIONS: dict[Declare, str] = {}


def declares(description: str) -> Callable[[Declare], Declare]:
    """Register a function that declares the interaction ``description``."""

    def register(declare: Declare) -> Declare:
        DESCRIPTIONS[declare] = description
        return declare

    return register


def _lot_list() -> Any:
    return _body("LotList", example(SPEC, "LotList"), exact={"/lots/0/status"})


@declares(LIST_PUBLISHED)
def list_published(pact: Pact) -> None:
    (
        _get(pact, LIST_PUBLISHED, states.LOT_PUBLISHED, OPS["listExternalLots"].path)
        .with_query_parameters({"status": "published", "limit": "200", "offset": "0"})
        .will_respond_with(200)
        .with_body(_lot_list(), "application/json")
    )


def filter_query() -> dict[str, str]:
    """Filters every published example lot meets: its type, total price and first standard."""
    lot = example(SPEC, "Lot")
    price = str(lot["pricing"]["price"])
    standard = lot["compliance"]["standards"][0]
    return {
        "status": "published",
        "type": lot["type"],
        "minPrice": price,
        "maxPrice": price,
        "standards": standard,
    }


@declares(LIST_FILTERED)
def list_filtered(pact: Pact) -> None:
    (
        _get(pact, LIST_FILTERED, states.LOT_PUBLISHED, OPS["listExternalLots"].path)
        .with_query_parameters(filter_query())
        .will_respond_with(200)
        .with_body(_lot_list(), "application/json")
    )


def _read(pact: Pact, description: str, state: str, path: Any, status: int, body: Any) -> None:
    """A read of one entity, answered ``status`` with ``body``."""
    media = "application/json" if status < 400 else PROBLEM
    _get(pact, description, state, path).will_respond_with(status).with_body(body, media)


@declares(READ_LOT)
def read_lot(pact: Pact) -> None:
    path = _path("getExternalLot", lotId=example(SPEC, "Lot")["_id"])
    lot = _body("LotResponse", example(SPEC, "LotResponse"), exact={"/lot/status"})
    _read(pact, READ_LOT, states.LOT_PUBLISHED, path, 200, lot)


@declares(READ_MISSING_LOT)
def read_missing_lot(pact: Pact) -> None:
    path = _path("getExternalLot", lotId=example(SPEC, "Lot")["_id"])
    _read(pact, READ_MISSING_LOT, states.NO_SUCH_ENTITY, path, 404, _problem(404, None))


@declares(NO_KEY)
def no_key(pact: Pact) -> None:
    (
        pact.upon_receiving(NO_KEY)
        .given(states.LOT_PUBLISHED)
        .with_request("GET", OPS["listExternalLots"].path)
        .with_query_parameters({"status": "published"})
        .will_respond_with(401)
        .with_body(_problem(401, None), PROBLEM)
    )


def _submission(**inject: str) -> Any:
    submission = example(SPEC, "BidSubmission")
    return _body("BidSubmission", submission, **inject)


def _submit(pact: Pact, description: str, state: str, **inject: str) -> Any:
    return (
        pact.upon_receiving(description)
        .given(state)
        .with_request("POST", OPS["submitBid"].path)
        .with_header("X-API-Key", api_key())
        .with_body(_submission(lotId="${lotId}", **inject), "application/json")
    )


def _bid_response(status: str) -> Any:
    bid = example(SPEC, "Bid") | {"status": status}
    return _body("BidResponse", {"bid": bid}, exact={"/bid/status"})


@declares(SUBMIT)
def submit(pact: Pact) -> None:
    (
        _submit(pact, SUBMIT, states.LOT_PUBLISHED)
        .will_respond_with(201)
        .with_body(_bid_response("pending"), "application/json")
    )


@declares(RESUBMIT)
def resubmit(pact: Pact) -> None:
    (
        _submit(pact, RESUBMIT, states.BID_SUBMITTED, externalBidId="${externalBidId}")
        .will_respond_with(200)
        .with_body(_bid_response("pending"), "application/json")
    )


@declares(OTHER_TERMS)
def other_terms(pact: Pact) -> None:
    (
        _submit(
            pact, OTHER_TERMS, states.BID_SUBMITTED_OTHER_TERMS, externalBidId="${externalBidId}"
        )
        .will_respond_with(409)
        .with_body(_problem(409, "duplicate_external_bid"), PROBLEM)
    )


@declares(LOT_SOLD)
def lot_sold(pact: Pact) -> None:
    (
        _submit(pact, LOT_SOLD, states.LOT_SOLD)
        .will_respond_with(409)
        .with_body(_problem(409, "lot_not_open"), PROBLEM)
    )


@declares(TOO_LARGE)
def too_large(pact: Pact) -> None:
    (
        _submit(pact, TOO_LARGE, states.LOT_TOO_SMALL)
        .will_respond_with(422)
        .with_body(_problem(422, "volume_exceeds_lot", field_errors=True), PROBLEM)
    )


@declares(READ_BID)
def read_bid(pact: Pact) -> None:
    bid = example(SPEC, "Bid")
    path = _path("getExternalBid", bidId=bid["_id"])
    detail = _body("BidDetail", {"bid": bid}, exact={"/bid/status"})
    _read(pact, READ_BID, states.BID_SUBMITTED, path, 200, detail)


def _answer(pact: Pact, description: str, accept: bool) -> Any:
    bid_id = example(SPEC, "Bid")["_id"]
    answer = example(SPEC, "CounterOfferAnswer", 0) | {"accept": accept}
    return (
        pact.upon_receiving(description)
        .given(states.BID_COUNTERED)
        .with_request("POST", _path("acceptCounterOffer", bidId=bid_id))
        .with_header("X-API-Key", api_key())
        .with_body(
            _body(
                "CounterOfferAnswer", answer, exact={"/accept"}, counterOfferId="${counterOfferId}"
            ),
            "application/json",
        )
    )


def _answer_result(bid_status: str, counter_status: str, *members: str) -> Any:
    result = composed(SPEC, "CounterOfferAnswerResult", *members)
    result["bid"] |= {"status": bid_status}
    result["counterOffer"] |= {"status": counter_status}
    pinned = {"/success", "/bid/status", "/counterOffer/status"}
    return _body("CounterOfferAnswerResult", result, exact=pinned)


@declares(ACCEPT_COUNTER)
def accept_counter(pact: Pact) -> None:
    (
        _answer(pact, ACCEPT_COUNTER, accept=True)
        .will_respond_with(200)
        .with_body(_answer_result("accepted", "accepted", "contract"), "application/json")
    )


@declares(DECLINE_COUNTER)
def decline_counter(pact: Pact) -> None:
    (
        _answer(pact, DECLINE_COUNTER, accept=False)
        .will_respond_with(200)
        .with_body(_answer_result("pending", "declined"), "application/json")
    )


@declares(READ_CONTRACT)
def read_contract(pact: Pact) -> None:
    path = _path("getExternalContract", contractId=example(SPEC, "Contract")["_id"])
    contract = _body(
        "ContractResponse", example(SPEC, "ContractResponse"), exact={"/contract/status"}
    )
    _read(pact, READ_CONTRACT, states.CONTRACT_MADE, path, 200, contract)


# ---------------------------------------------------------------------------- scenarios
Drive = Callable[[Path, str], None]


@dataclass(frozen=True)
class Scenario:
    """What the producer does, the interactions it needs, and the check of its outcome."""

    name: str
    interactions: tuple[Declare, ...]
    drive: Drive

    @property
    def descriptions(self) -> set[str]:
        return {DESCRIPTIONS[declare] for declare in self.interactions}


def _fresh(tmp_path: Path, url: str, transport: Any = None) -> ProducerUnderTest:
    return producer(tmp_path, url, transport)


def drive_sync(tmp_path: Path, url: str) -> None:
    """The producer's marketplace sync stores the listed lot as open."""
    p = _fresh(tmp_path, url)
    response = p.op("POST", "/api/marketplace/sync")
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1
    assert p.marketplace_lot(example(SPEC, "Lot")["_id"])["status"] == "open"


def drive_sync_closes_missing(tmp_path: Path, url: str) -> None:
    """A lot the producer holds open, that the buyer neither lists nor has, is closed."""
    p = _fresh(tmp_path, url)
    gone = example(SPEC, "Lot") | {"_id": new_object_id(), "version": 1}
    payload = example(SPEC, "LotEventPayload") | {"lot": gone, "eventId": new_event_id()}
    assert p.deliver("/api/webhooks/lots", payload).status_code == 200
    response = p.op("POST", "/api/marketplace/sync")
    assert response.status_code == 200, response.text
    assert response.json()["closed"] == 1
    assert p.marketplace_lot(gone["_id"])["status"] == "closed"


def _client(tmp_path: Path, url: str) -> SpecClient:
    """The producer's own client of the buyer API (as ``make_buyer`` builds it)."""
    buyer: SpecClient = _fresh(tmp_path, url).context.buyer
    return buyer


def drive_filtered(tmp_path: Path, url: str) -> None:
    response = _client(tmp_path, url).call("listExternalLots", query=filter_query())
    assert response.status_code == 200, response.text
    assert response.json()["lots"][0]["type"] == filter_query()["type"]


def drive_read_lot(tmp_path: Path, url: str) -> None:
    lot_id = example(SPEC, "Lot")["_id"]
    response = _client(tmp_path, url).call("getExternalLot", path={"lotId": lot_id})
    assert response.status_code == 200, response.text
    assert response.json()["lot"]["status"] == "published"


def drive_no_key(tmp_path: Path, url: str) -> None:
    """Without its key (a producer misconfigured), the buyer's refusal is a 401 problem."""
    _fresh(tmp_path, url)
    keyless = SpecClient(SPEC, url)
    response = keyless.call("listExternalLots", query={"status": "published"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM)


def drive_submit(tmp_path: Path, url: str) -> None:
    """A submitted bid is stored as submitted, with the buyer's bid id and version."""
    p = _fresh(tmp_path, url)
    bid = p.bid_with_example_terms()
    assert bid["status"] == "submitted"
    assert bid["buyerBidId"] == example(SPEC, "Bid")["_id"]


def drive_resubmit(tmp_path: Path, url: str) -> None:
    """A bid kept as draft after an outage is sent again, same externalBidId, and submitted."""
    p = _fresh(tmp_path, url, OutageTransport(failures=1))
    body = example(load_portal_spec("producer"), "ProducerBidInput")
    first = p.op("POST", "/api/producer/bids", json=body)
    assert first.status_code == 502, first.text
    draft = p.op("GET", "/api/producer/bids").json()["bids"][0]
    assert draft["status"] == "draft"
    again = p.op("POST", f"/api/producer/bids/{draft['_id']}/submit")
    assert again.status_code == 200, again.text
    assert again.json()["bid"]["status"] == "submitted"
    assert again.json()["bid"]["externalBidId"] == draft["externalBidId"]


def _refused(tmp_path: Path, url: str, status: int, code: str) -> None:
    """The buyer's refusal is passed on with its code, and the bid is kept as failed."""
    p = _fresh(tmp_path, url)
    body = example(load_portal_spec("producer"), "ProducerBidInput")
    response = p.op("POST", "/api/producer/bids", json=body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    bids = p.op("GET", "/api/producer/bids").json()["bids"]
    assert bids[0]["status"] == "failed"
    assert bids[0]["lastError"]["code"] == code


def drive_read_bid(tmp_path: Path, url: str) -> None:
    bid_id = example(SPEC, "Bid")["_id"]
    response = _client(tmp_path, url).call("getExternalBid", path={"bidId": bid_id})
    assert response.status_code == 200, response.text
    assert response.json()["bid"]["status"] == "pending"


def _countered(tmp_path: Path, url: str) -> tuple[ProducerUnderTest, dict[str, Any]]:
    """A submitted bid that the buyer's bid.counter_offer webhook has countered."""
    p = _fresh(tmp_path, url)
    bid = p.bid_with_example_terms()
    payload = example(SPEC, "BidEventPayload")
    payload["bid"] |= {"externalBidId": bid["externalBidId"], "status": "countered", "version": 2}
    assert p.deliver("/api/webhooks/bids", payload).status_code == 200
    assert p.my_bid(bid["_id"])["status"] == "counter_offer"
    return p, bid


def _answer_counter(tmp_path: Path, url: str, *, accept: bool) -> Any:
    """The producer's answer to a counter-offer on its bid, through its operator API."""
    p, bid = _countered(tmp_path, url)
    path = f"/api/producer/bids/{bid['_id']}/counter-response"
    response = p.op("POST", path, json={"accept": accept})
    assert response.status_code == 200, response.text
    return response


def drive_accept_counter(tmp_path: Path, url: str) -> None:
    """Accepting the counter-offer wins the bid and stores the contract the buyer returned."""
    response = _answer_counter(tmp_path, url, accept=True)
    assert response.json()["bid"]["status"] == "won"
    assert response.json()["contract"]["_id"] == example(SPEC, "Contract")["_id"]


def drive_decline_counter(tmp_path: Path, url: str) -> None:
    """Declining the counter-offer puts the bid back to submitted."""
    response = _answer_counter(tmp_path, url, accept=False)
    assert response.json()["bid"]["status"] == "submitted"


def drive_read_contract(tmp_path: Path, url: str) -> None:
    contract_id = example(SPEC, "Contract")["_id"]
    response = _client(tmp_path, url).call("getExternalContract", path={"contractId": contract_id})
    assert response.status_code == 200, response.text
    assert response.json()["contract"]["status"] == "draft"


SCENARIOS = (
    Scenario("sync stores the published lots", (list_published,), drive_sync),
    Scenario(
        "sync closes a lot the buyer no longer has",
        (list_published, read_missing_lot),
        drive_sync_closes_missing,
    ),
    Scenario("list lots with filters", (list_filtered,), drive_filtered),
    Scenario("read a lot", (read_lot,), drive_read_lot),
    Scenario("a call without the key is refused", (no_key,), drive_no_key),
    Scenario("submit a bid", (submit,), drive_submit),
    Scenario("resubmit the same bid after an outage", (resubmit,), drive_resubmit),
    Scenario(
        "an externalBidId reused with other terms is refused",
        (other_terms,),
        lambda t, u: _refused(t, u, 409, "duplicate_external_bid"),
    ),
    Scenario(
        "a bid on a sold lot is refused",
        (lot_sold,),
        lambda t, u: _refused(t, u, 409, "lot_not_open"),
    ),
    Scenario(
        "a bid larger than the lot is refused",
        (too_large,),
        lambda t, u: _refused(t, u, 422, "volume_exceeds_lot"),
    ),
    Scenario("read a bid's status", (read_bid,), drive_read_bid),
    Scenario("accept a counter-offer", (submit, accept_counter), drive_accept_counter),
    Scenario("decline a counter-offer", (submit, decline_counter), drive_decline_counter),
    Scenario("read a contract", (read_contract,), drive_read_contract),
)


def run_scenario(scenario: Scenario, tmp_path: Path, pact_dir: Path) -> None:
    """Declare, serve, drive the producer, and write the pact (merged into ``pact_dir``)."""
    pact = Pact(CONSUMER, HTTP_PROVIDER).with_specification("V4")
    for declare in scenario.interactions:
        declare(pact)
    with pact.serve() as server:
        scenario.drive(tmp_path, str(server.url).rstrip("/"))
    pact.write_file(pact_dir, overwrite=False)
