"""The end of a scenario, observed: which entities are read again, with which operation (derived
from the spec), as whom, and how a read that fails is told."""

from __future__ import annotations

import copy
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from lotflow.engine import events as ev
from lotflow.engine.finals import ENTITIES, reader_for, readers, sightings
from lotflow.engine.loader import load_scenario
from lotflow.engine.operations import operation_index
from lotflow.engine.runner import Runner
from lotflow.openapi import load_portal_spec, resolve
from lotflow.reporters.terminal import TerminalReporter
from lotflow.workflow import load_workflow
from tests.engine.fakes import KNOWN, FakeMarketplace
from tests.engine.test_runner import OPENING
from tests.reporters.stream import exchange, step

Write = Callable[..., Path]
PORTALS = ("buyer", "producer")
SPECS = {portal: load_portal_spec(portal) for portal in PORTALS}
INDEX = operation_index(SPECS)

OPERATOR = {"operatorToken"}
API_KEY = {"producerApiKey", "producerBearer"}
PRODUCER_OPERATOR = {"producerOperatorToken"}


# ---------------------------------------------------------------- which operation, from the spec
@pytest.mark.parametrize(
    ("portal", "schemes", "expected"),
    [
        ("buyer", OPERATOR, ("getLot", "getBid", "getContract")),
        ("buyer", API_KEY, ("getExternalLot", "getExternalBid", "getExternalContract")),
        (
            "producer",
            PRODUCER_OPERATOR,
            ("getMarketplaceLot", "getProducerBid", "getProducerContract"),
        ),
    ],
)
def test_each_portal_reads_each_entity_with_an_operation_its_actor_can_call(
    portal: str, schemes: set[str], expected: tuple[str, ...]
) -> None:
    chosen = tuple(reader_for(INDEX, portal, entity, schemes) for entity in ENTITIES)
    assert chosen == expected
    for entity, op_id in zip(ENTITIES, chosen, strict=True):
        method, parameters, answer, security = _from_the_document(portal, str(op_id))
        assert method == "get"
        assert len(parameters) == 1  # one path parameter: the entity's id
        assert entity in answer["properties"]  # its 200 answer holds the entity, top level
        assert entity in answer["required"]  # and is about it (getBid may carry a contract)
        assert schemes & security  # the actor can call it


def _from_the_document(portal: str, op_id: str) -> tuple[str, list[str], dict[str, Any], set[str]]:
    """The operation as the bundled document itself says it, not through the index."""
    spec = SPECS[portal]
    for path, item in spec["paths"].items():
        for method, raw in item.items():
            if isinstance(raw, dict) and raw.get("operationId") == op_id:
                parameters = [*item.get("parameters", []), *raw.get("parameters", [])]
                named = [resolve(spec, p)["name"] for p in parameters]
                in_path = [n for n in named if "{" + n + "}" in path]
                content = resolve(spec, raw["responses"]["200"])["content"]
                answer = resolve(spec, content["application/json"]["schema"])
                security = {name for option in raw.get("security", []) for name in option}
                return method, in_path, answer, security
    raise AssertionError(f"{op_id} is not in the {portal} document")


def test_the_choice_follows_the_spec_when_an_operation_is_renamed_or_removed() -> None:
    spec = copy.deepcopy(SPECS["buyer"])
    spec["paths"]["/api/lots/{lotId}"]["get"]["operationId"] = "readOneLot"
    del spec["paths"]["/api/lots/external/{lotId}"]
    index = operation_index({"buyer": spec})
    assert reader_for(index, "buyer", "lot", OPERATOR) == "readOneLot"
    assert readers(index, "buyer", "lot") == ["readOneLot"]
    assert reader_for(index, "buyer", "lot", API_KEY) == "readOneLot"  # the only one left
    contract = spec["paths"]["/api/contracts/{contractId}"]["get"]
    contract["responses"]["200"] = {"description": "no body"}
    index = operation_index({"buyer": spec})
    assert reader_for(index, "buyer", "contract", OPERATOR) == "getBid"  # still holds one
    assert reader_for(index, "producer", "lot", PRODUCER_OPERATOR) is None


def test_the_entities_read_again_are_the_machines_both_portals_keep() -> None:
    machines = [name.partition(".") for name in load_workflow().machines]
    buyer = [entity for portal, _, entity in machines if portal == "buyer"]
    producer = {entity for portal, _, entity in machines if portal == "producer"}
    assert tuple(entity for entity in buyer if entity in producer) == ENTITIES


# ---------------------------------------------------------------- which entities, as whom
def test_each_portal_s_own_ids_are_read_as_the_first_actor_they_were_shown_to() -> None:
    def shown(entity: str, entity_id: str, **where: Any) -> ev.Exchange:
        return exchange("x", 200, body={entity: {"_id": entity_id, "status": "s"}}, **where)

    steps = (
        step("S", "s", "a", "A", "passed", exchanges=(
            shown("bid", "pb1", actor="producer:beta", portal="producer"),
            shown("bid", "b1", actor="producer:beta", portal="buyer"),
        )),
        step("S", "s", "b", "B", "passed", exchanges=(
            shown("bid", "b1"),  # the buyer reads the same bid: still beta's first
            shown("bid", "pb1", actor="producer:alpha", portal="producer"),
            exchange("y", 200, body={"lot": {"status": "open"}, "bids": [{"_id": "b9"}]}),
        )),
    )  # fmt: skip
    assert [(s.portal, s.entity, s.entity_id, s.actor) for s in sightings(steps)] == [
        ("producer", "bid", "pb1", "producer:beta"),
        ("buyer", "bid", "b1", "producer:beta"),
    ]


# ---------------------------------------------------------------- the runner's final reads
def ended(
    market: FakeMarketplace, path: Path, after_last: Callable[[], None] = lambda: None
) -> tuple[ev.ScenarioFinished, str]:
    """Run one scenario; ``after_last`` changes the world once its last step has ended."""
    scenario = load_scenario(path, KNOWN)
    out = io.StringIO()
    reporter = TerminalReporter(Console(file=out, width=300), live=False)
    finished = []
    with market.runner() as runner:
        for event in runner.run([scenario]):
            reporter.handle(event)
            if isinstance(event, ev.StepEnded) and event.step_id == scenario.steps[-1].id:
                after_last()
            if isinstance(event, ev.ScenarioFinished):
                finished.append(event)
    return finished[0], out.getvalue()


def statuses(finished: ev.ScenarioFinished) -> list[tuple[str, str, str | None]]:
    return [(read.portal, read.entity, read.status) for read in finished.final]


def test_what_changed_after_the_last_read_is_what_the_end_shows(
    market: FakeMarketplace, write: Write
) -> None:
    def award() -> None:
        for bid in market.bids.values():
            bid["status"] = "accepted"  # nobody in the story reads the bid again

    finished, text = ended(market, write(OPENING), award)
    assert finished.passed
    assert statuses(finished) == [
        ("buyer", "lot", "published"),
        ("producer", "lot", "open"),
        ("producer", "bid", "submitted"),
        ("buyer", "bid", "accepted"),
    ]
    assert {read.exchange.purpose for read in finished.final if read.exchange} == {"final"}
    assert "  buyer portal now shows: lot published, bid accepted\n" in text


def test_a_read_that_fails_is_unknown_with_its_reason_and_never_fails_the_scenario(
    market: FakeMarketplace, write: Write
) -> None:
    finished, text = ended(market, write(OPENING), market.lots.clear)
    assert finished.passed
    lot = finished.final[0]
    assert (lot.portal, lot.entity, lot.status) == ("buyer", "lot", None)
    assert lot.reason == "getLot answered 404: Not Found"
    assert lot.exchange is not None
    assert lot.exchange.status == 404
    assert (
        "  buyer portal now shows: lot unknown (getLot answered 404: Not Found), bid pending"
        in (text)
    )


def test_an_unreachable_portal_leaves_its_entities_unknown_saying_so(
    market: FakeMarketplace, write: Write
) -> None:
    def gone() -> None:
        market.unreachable.add("producer.test")

    finished, text = ended(market, write(OPENING), gone)
    producer = [read for read in finished.final if read.portal == "producer"]
    assert [read.status for read in producer] == [None, None]
    assert producer[0].reason.startswith("could not reach the producer portal at ")
    assert producer[0].exchange is not None
    assert producer[0].exchange.response is None
    assert "producer portal now shows: lot unknown (could not reach the producer portal" in text


def test_a_failed_scenario_still_ends_with_what_each_portal_shows(
    market: FakeMarketplace, write: Write
) -> None:
    failing = OPENING + (
        "  - id: refuse\n    title: A bid that should be refused\n    actor: producer\n"
        "    call: getProducerBid\n    path: {bidId: '${producer_bid_id}'}\n"
        "    expect: {status: 404}\n"
    )
    finished, text = ended(market, write(failing))
    assert not finished.passed
    assert ("producer", "bid", "submitted") in statuses(finished)
    assert "  producer portal now shows: lot open, bid submitted\n" in text


def test_a_runner_closed_before_the_end_reads_nothing_more(
    market: FakeMarketplace, write: Write
) -> None:
    scenario = load_scenario(write(OPENING), KNOWN)
    runner: Runner = market.runner()
    events: Iterator[ev.Event] = runner.run([scenario])
    finished = []
    for event in events:
        if isinstance(event, ev.StepEnded) and event.step_id == "bid":
            sent = len(market.requests)
            runner.close()
        if isinstance(event, ev.ScenarioFinished):
            finished.append(event)
            break
    assert finished[0].final == ()
    assert len(market.requests) == sent
