"""Each party's state after each step, and the contract's terms, as the reports tell them."""

from __future__ import annotations

import html
import io
import re
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from lotflow.engine import events as ev
from lotflow.reporters.ledger import Ledger, contract_terms, end_contract, end_states
from lotflow.reporters.sequence import build
from lotflow.reporters.story import StoryReporter
from lotflow.reporters.terminal import TerminalReporter
from lotflow.reporters.vocabulary import spec_vocabulary
from tests.reporters.stream import (
    CONTRACT,
    FIRST,
    OUTAGE,
    SECOND,
    SECOND_FINAL,
    exchange,
    feed,
    final,
    finished,
    step,
)

WORDS = spec_vocabulary()


def test_the_ledger_keeps_each_partys_latest_status_of_each_entity() -> None:
    ledger = Ledger()
    after = ledger.after(FIRST[:2] + SECOND[2:3])
    assert after[0].empty
    assert after[1].line("producer") == "lot open"
    assert after[1].status("buyer", "lot") == "—"
    assert after[2].line("buyer") == "contract draft"
    assert after[2].line("producer") == "lot open, bid won"


def test_the_end_is_told_from_the_final_reads_alone_and_an_unread_entity_is_unknown() -> None:
    end = end_states(SECOND_FINAL)
    assert (
        end.line("buyer") == "lot unknown (getLot answered 404: Lot l7 not found), contract draft"
    )
    assert end.line("producer") == "bid won"
    assert end_contract(SECOND_FINAL) == CONTRACT


def test_the_contract_at_the_end_is_the_buyers_when_both_portals_showed_one() -> None:
    theirs = {**CONTRACT, "_id": "pc1", "contractNumber": "THEIRS"}
    reads = (
        final("producer", "contract", "pc1", "draft", shown=theirs),
        final("buyer", "contract", "c1", "draft", shown=CONTRACT),
    )
    assert end_contract(reads) == CONTRACT
    assert end_contract(reads[:1]) == theirs
    assert end_contract(()) is None


def test_the_contracts_terms_are_said_in_words() -> None:
    assert contract_terms(CONTRACT) == [
        ("contract", "NA-2026-0042"),
        ("status", "draft"),
        ("volume", "250,000 gallons"),
        ("price", "USD 6.40 per gallon"),
        ("total", "USD 1,600,000"),
        ("payment", "Net 30"),
        ("delivery", "2027-03-15"),
        ("delivered at", "Rotterdam, NL"),
    ]


def test_the_terminal_ends_each_story_with_where_the_parties_stand_and_the_contract() -> None:
    out = io.StringIO()
    feed(TerminalReporter(Console(file=out, width=300)))
    text = out.getvalue()
    assert (
        "  buyer portal now shows: lot unknown (getLot answered 404: Lot l7 not found), "
        "contract draft\n" in text
    )  # read again at the end: never the status a step happened to see last
    assert "  producer portal now shows: bid won\n" in text  # this story's reads only
    assert "  producer portal now shows: lot open\n" in text  # the first story's, failed or not
    assert "  the contract: contract NA-2026-0042 · status draft · volume 250,000 gallons" in text


def test_the_story_page_has_a_linked_summary_states_side_by_side_and_the_terms(
    tmp_path: Path,
) -> None:
    feed(StoryReporter(tmp_path))
    page = (tmp_path / "story.html").read_text()
    summary = page.index("<table class='scenarios'>")
    assert summary < page.index("<section")  # at the top
    assert "<a href='#s-07-outage'>Producer portal down while the buyer accepts</a>" in page
    assert "<section id='s-07-outage' class='passed'>" in page
    states = re.search(r"<table class='states'>.*?</table>", page[page.index("id='s-07-outage'") :])
    assert states is not None
    assert "<th colspan='3'>buyer portal</th><th colspan='3'>producer portal</th>" in states[0]
    row = re.search(
        r"<tr class='passed'><th scope='row'>3\. The buyer accepts[^<]*</th>(.*?)</tr>", states[0]
    )
    assert row is not None
    assert re.findall(r"<td>([^<]*)</td>", row[1]) == ["—", "—", "draft", "—", "won", "—"]
    caption = "Each row after a step is what that step&#x27;s own calls and checks last answered"
    assert f"<caption>{caption}" in states[0]
    end = re.search(
        r"<tfoot><tr class='end'><th scope='row'>at the end[^<]*</th>(.*?)</tr>", states[0]
    )
    assert end is not None
    assert re.findall(r"<td>([^<]*)</td>", end[1]) == [
        "unknown (getLot answered 404: Lot l7 not found)",
        "—",
        "draft",
        "—",
        "won",
        "—",
    ]
    ended = (
        "buyer: lot unknown (getLot answered 404: Lot l7 not found), contract draft; "
        "producer: bid won"
    )
    assert f"<td>{html.escape(ended)}</td><td>NA-2026-0042</td></tr>" in page  # the summary
    assert "<dt>price</dt><dd>USD 6.40 per gallon</dd>" in page
    markdown = (tmp_path / "story.md").read_text()
    assert "- **price**: USD 6.40 per gallon" in markdown
    assert (
        "| at the end (read again) | unknown (getLot answered 404: Lot l7 not found) |" in markdown
    )


def test_lotflows_final_reads_are_in_the_end_state_table_never_arrows_of_the_story(
    tmp_path: Path,
) -> None:
    told = finished(OUTAGE, "07-outage", True, SECOND)
    assert build(replace(told, final=SECOND_FINAL)) == build(told)
    feed(StoryReporter(tmp_path))
    page = (tmp_path / "story.html").read_text()
    read_again = WORDS.operation("getLot")  # only a final read called it
    assert html.escape(read_again) not in page
    assert read_again not in (tmp_path / "story.md").read_text()
    assert "unknown (getLot answered 404: Lot l7 not found)" in page  # the end-state table


def test_two_bids_of_one_story_are_both_told_in_the_order_first_seen() -> None:
    def read(bid_id: str, status: str) -> ev.Exchange:
        body = {"bid": {"_id": bid_id, "status": status}}
        return exchange("getBid", 200, purpose="state", body=body)

    first = step("S", "s", "a", "Two bids", "passed", exchanges=(read("b1", "pending"),))
    second = step(
        "S",
        "s",
        "b",
        "One wins",
        "passed",
        exchanges=(read("b2", "accepted"), read("b1", "rejected")),
    )
    after = Ledger().after((first, second))
    assert after[0].status("buyer", "bid") == "pending"
    assert after[1].status("buyer", "bid") == "rejected / accepted"
