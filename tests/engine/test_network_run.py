"""Network steps run between two running reference portals: the tap holds a webhook back, the
reports say what the network did, and the scenario's end resets the tap and says what it
discarded (a network fault never outlives its scenario)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from lotflow.cli.running import load_scenarios
from lotflow.engine import events as ev
from lotflow.engine.runner import Runner, operation_index
from lotflow.engine.tap import NetworkFault
from lotflow.openapi import load_portal_spec
from lotflow.reporters.jsonreport import JsonReporter
from lotflow.reporters.junit import JUnitReporter
from lotflow.reporters.sequence import build
from lotflow.reporters.vocabulary import spec_vocabulary
from lotflow.reporters.wording import told_line
from lotflow.stack import ReferenceStack
from lotflow.workflow import load_workflow
from tests.fixtures.stack import write_scenario

HELD_BACK = """\
name: A publication held back by the network
steps:
  - id: hold
    title: The network holds every webhook back
    network: {fault: delay}
  - id: create-lot
    title: The buyer drafts a lot
    actor: buyer
    call: createLot
    body: {title: "Lot ${run_id}", type: HEFA-SPK, volume: {amount: 1000, unit: gallons},
           pricing: {price: 6500, currency: USD, pricePerUnit: 6.5}}
    expect: {status: 201}
    save: {lot_id: /lot/_id}
  - id: publish
    title: The buyer publishes it
    actor: buyer
    call: publishLot
    path: {lotId: "${lot_id}"}
    webhooks:
      - {event: lot.published, match: {/lot/_id: "${lot_id}"}, delivered: false, within: 5s}
    state:
      - {party: producer, call: getMarketplaceLot, path: {lotId: "${lot_id}"}, status: 404,
         expect: {}}
"""


def run(stack: ReferenceStack, path: Path) -> list[ev.Event]:
    operations = operation_index({p: load_portal_spec(p) for p in ("buyer", "producer")})
    with Runner(stack.parties(), operations, load_workflow().mapping) as runner:
        return list(runner.run(load_scenarios([path])))


def test_a_held_back_webhook_is_reported_and_discarded_when_the_scenario_ends(
    stack: ReferenceStack, tmp_path: Path
) -> None:
    events = run(stack, write_scenario(tmp_path, HELD_BACK))
    finished = next(e for e in events if isinstance(e, ev.ScenarioFinished))
    assert finished.passed, [f.message for s in finished.steps for f in s.failures]
    assert finished.note.startswith("the network held ")
    assert "discarded unsent: lot.published" in finished.note
    assert (stack.tap.fault, stack.tap.held, stack.tap.down) == (NetworkFault.DELIVER, [], False)

    hold, _, publish = finished.steps
    assert hold.note == "the network holds every webhook back: the buyer sees 504"
    held = [w for w in publish.webhooks if w.network == "held"]
    assert held
    assert told_line(held[0], spec_vocabulary()).startswith(
        "→ not delivered to the producer portal (held back by the network)"
    )
    arrows = [a for block in build(finished).blocks for a in block.items if hasattr(a, "lost")]
    assert any("held back by the network" in a.label and a.lost for a in arrows)

    report, junit = JsonReporter(tmp_path / "result.json"), JUnitReporter(tmp_path / "j.xml")
    for event in events:
        report.handle(event)
        junit.handle(event)
    junit.close()
    assert report.document["scenarios"][0]["note"] == finished.note
    written = ET.parse(tmp_path / "j.xml")  # noqa: S314 - the file this test just wrote
    outs = [n.text or "" for n in written.iter("system-out")]
    assert any(hold.note in text for text in outs)
    assert any(finished.note in text for text in outs)
