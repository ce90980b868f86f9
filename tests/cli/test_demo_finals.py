"""The end of a story between the reference portals is what the portals show once it ended, not
the status a step happened to read last."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from rich.console import Console

from lotflow.cli.running import run_and_report
from lotflow.engine.loader import load_scenario
from lotflow.stack import ReferenceStack
from tests.fixtures.stack import write_scenario

AWARD = """\
name: An award nobody reads back
steps:
  - id: create-lot
    title: The buyer drafts a lot
    actor: buyer
    call: createLot
    body:
      title: "HEFA-SPK SAF (${run_id})"
      type: HEFA-SPK
      volume: {amount: 500000, unit: gallons}
      pricing: {price: 3250000, currency: USD, pricePerUnit: 6.5, paymentTerms: Net 30}
      delivery: {deliveryDate: "${now+90d}", deliveryLocation: "Rotterdam, NL", incoterms: FOB}
    expect: {status: 201}
    save: {lot_id: /lot/_id}
  - id: publish-lot
    title: The buyer publishes the lot
    actor: buyer
    call: publishLot
    path: {lotId: "${lot_id}"}
    webhooks:
      - {event: lot.published, match: {/lot/_id: "${lot_id}"}}
    state:
      - party: producer
        call: getMarketplaceLot
        path: {lotId: "${lot_id}"}
        expect: {/lot/status: open}
  - id: submit-bid
    title: The producer bids
    actor: producer
    call: submitProducerBid
    body:
      lotId: "${lot_id}"
      volume: {amount: 250000, unit: gallons}
      pricing: {price: 1575000, currency: USD, pricePerUnit: 6.3, paymentTerms: Net 45}
    expect: {status: 201, body: {/bid/status: submitted}}
    save: {bid_id: /bid/buyerBidId}
  - id: accept-bid
    title: The buyer accepts the bid; nobody reads the lot or the producer's bid again
    actor: buyer
    call: decideBid
    path: {bidId: "${bid_id}"}
    body: {status: accepted}
    expect: {status: 200, body: {/bid/status: accepted}}
    webhooks:
      - {event: bid.accepted, match: {/bid/_id: "${bid_id}"}}
      - {event: lot.updated, match: {/lot/_id: "${lot_id}"}}
"""


def test_after_an_award_each_portal_is_shown_as_it_is_when_the_story_ends(
    stack: ReferenceStack, tmp_path: Path, operations_known: dict[str, str]
) -> None:
    scenario = load_scenario(write_scenario(tmp_path, AWARD), operations_known)
    out = io.StringIO()
    ended = run_and_report(
        stack.parties(),
        [scenario],
        tmp_path / "r",
        Console(file=out, width=300),
        webhook_secret=stack.credentials.webhook_secret,
    )
    text = out.getvalue()
    assert ended.exit_code == 0, text
    # The steps last read the lot as published/open and the producer's bid as submitted.
    assert "  buyer portal now shows: lot sold, bid accepted, contract draft\n" in text
    assert "  producer portal now shows: lot awarded, bid won\n" in text
    assert "  the contract: contract " in text

    (finished,) = json.loads((tmp_path / "r" / "result.json").read_text())["scenarios"]
    ends = {(r["portal"], r["entity"]): r["status"] for r in finished["final"]}
    assert ends[("buyer", "lot")] == "sold"
    assert ends[("producer", "lot")] == "awarded"
    assert {r["exchange"]["operation"] for r in finished["final"]} == {
        "getLot",
        "getBid",
        "getContract",
        "getMarketplaceLot",
        "getProducerBid",
    }
    page = (tmp_path / "r" / "story.html").read_text()
    end = re.search(r"<tr class='end'>.*?</tr>", page)
    assert end is not None
    assert re.findall(r"<td>([^<]*)</td>", end[0]) == [
        "sold",
        "accepted",
        "draft",
        "awarded",
        "won",
        "—",
    ]
