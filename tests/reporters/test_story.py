"""The story report: narrative steps and a Mermaid sequence diagram, in Markdown and in HTML."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from pathlib import Path

from lotflow.openapi import load_portal_spec
from lotflow.reporters.mermaid import mermaid_text, sequence_diagram
from lotflow.reporters.sequence import Arrow, build
from lotflow.reporters.story import StoryReporter
from lotflow.reporters.svg import to_svg
from lotflow.reporters.vocabulary import spec_vocabulary
from tests.reporters.stream import FIRST, HAPPY, OUTAGE, SECOND, exchange, feed, finished, step


def written(tmp_path: Path) -> tuple[str, str]:
    feed(StoryReporter(tmp_path / "report"))
    folder = tmp_path / "report"
    return (folder / "story.md").read_text(encoding="utf-8"), (folder / "story.html").read_text(
        encoding="utf-8"
    )


WORDS = spec_vocabulary()


def test_every_call_is_an_arrow_labelled_in_the_specs_words_with_the_status() -> None:
    diagram = sequence_diagram(finished(HAPPY, "02", False, FIRST))
    assert diagram.startswith("sequenceDiagram\n    participant B as Buyer operator\n")
    create = WORDS.operation("createLot")
    assert create == load_portal_spec("buyer")["paths"]["/api/lots"]["post"]["summary"]
    assert f"    B->>BP: {mermaid_text(create)}\n    BP-->>B: 201" in diagram
    counter = mermaid_text(WORDS.operation("counterBid"))
    assert f"        B->>BP: {counter}\n        BP--xB: 409" in diagram  # in the failed shade
    assert "counterBid" not in diagram
    assert "The producer accepts the counter-offer" not in diagram  # skipped steps did nothing


def test_lotflows_checks_are_one_compact_note_per_step_not_arrows() -> None:
    diagram = sequence_diagram(finished(HAPPY, "02", False, FIRST))
    assert "Note over B,PP: ✓ lotflow checked: producer lot open" in diagram
    assert "(check)" not in diagram
    assert "participant L " not in diagram


def test_a_refusal_the_scenario_expects_is_drawn_as_expected_not_as_a_failure() -> None:
    refused = step(
        "R",
        "r",
        "again",
        "A second answer is refused",
        "passed",
        exchanges=(exchange("acceptCounterOffer", 409, actor="producer", portal="buyer"),),
    )
    model = build(finished("R", "r", True, (refused,)))
    answer = model.blocks[0].items[1]
    assert isinstance(answer, Arrow)
    assert (answer.label, answer.lost, answer.expected) == ("409, refused as expected", False, True)
    drawn = to_svg(model, ident="r", title="r")
    assert "class='arrow answer expected'" in drawn
    assert "url(#r-cross)" not in drawn
    failing = replace(refused, outcome="failed")
    lost = build(finished("R", "r", False, (failing,))).blocks[0].items[1]
    assert isinstance(lost, Arrow)
    assert (lost.lost, lost.expected) == (True, False)


def test_producers_act_as_their_alias_and_call_the_buyer_from_their_portal() -> None:
    diagram = sequence_diagram(finished(OUTAGE, "07", True, SECOND))
    assert "participant P_beta as Producer operator (beta)" in diagram
    assert f"P_beta->>PP: {mermaid_text(WORDS.operation('submitProducerBid'))}" in diagram
    assert f"PP->>BP: {mermaid_text(WORDS.operation('submitBid'))}" in diagram


def test_every_webhook_is_an_arrow_from_buyer_to_producer_with_its_words_and_outcome() -> None:
    diagram = sequence_diagram(finished(OUTAGE, "07", True, SECOND))
    accepted = mermaid_text(WORDS.event("bid.accepted"))
    assert f"BP->>PP: {accepted} (webhook)\n    PP--xBP: 503, not delivered" in diagram
    assert f"BP->>PP: {accepted} (webhook, again)\n    PP-->>BP: 200" in diagram
    assert "PP--xBP: no answer" in diagram
    assert "Note over PP: the producer portal goes offline" in diagram


def test_steps_are_notes_and_a_failed_step_is_shaded() -> None:
    diagram = sequence_diagram(finished(HAPPY, "02", False, FIRST))
    assert "Note over B,PP: ✓ 1. The buyer drafts a lot at $6.50/gal" in diagram
    assert re.search(r"rect rgba\([^)]*\)\n\s+Note over B,PP: ✗ 3\. The buyer counters", diagram)
    assert diagram.rstrip().endswith("end")


def test_mermaid_text_escapes_what_would_break_a_diagram() -> None:
    assert mermaid_text("a; b #1 <x>\nnext") == "a#59; b #35;1 #60;x#62; next"


def test_the_markdown_tells_each_scenario_and_embeds_its_diagram(tmp_path: Path) -> None:
    markdown, _ = written(tmp_path)
    assert markdown.startswith("# lotflow story report\n")
    assert "**1 passed, 1 failed (8 steps: 6 passed, 1 failed, 1 skipped) in 2.00s**" in markdown
    assert "## ✗ Counter-offer accepted; the contract carries the counter terms" in markdown
    create = WORDS.operation("createLot")
    assert f"1. ✓ **The buyer drafts a lot at \\$6.50/gal** — the buyer: {create} → 201" in markdown
    assert (
        "| 1 | [Counter-offer accepted; the contract carries the counter terms](#s-02-counter)"
        in (markdown)
    )
    assert "   - ✗ status: counterBid answered 409, expected 201" in markdown
    assert (
        "4. - **The producer accepts the counter-offer** — skipped: an earlier step failed"
        in markdown
    )
    assert markdown.count("```mermaid\nsequenceDiagram") == 2


def test_the_html_twin_is_self_contained_and_readable_without_scripts(tmp_path: Path) -> None:
    _, page = written(tmp_path)
    assert "<script" not in page
    assert not re.search(r"\bsrc=", page)
    assert re.findall(r"\bhref='([^']*)'", page) == ["#s-02-counter", "#s-07-outage"]
    assert "default-src 'none'" in page
    assert "<pre class='mermaid'>sequenceDiagram" in page
    assert html.escape(f"B->>BP: {WORDS.operation('createLot')}") in page
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert "The buyer counters at $6.40/gal" in text
    assert "✗ status: counterBid answered 409, expected 201" in text
    assert f"→ the producer portal is told (on a retry): {WORDS.event('bid.accepted')}" in text


def test_the_html_twin_draws_each_diagram_as_svg_with_page_unique_markers(tmp_path: Path) -> None:
    _, page = written(tmp_path)
    assert page.count("<svg ") == 2
    assert "id='d1-head'" in page
    assert "id='d2-head'" in page
    assert "url(#d2-cross)" in page  # the outage's refused deliveries end in a cross
    assert "<title>Sequence diagram: Producer portal down while the buyer accepts</title>" in page


def test_svg_labels_are_escaped_and_columns_widen_for_long_labels() -> None:
    from lotflow.reporters.sequence import Arrow, Block, Diagram, Note
    from lotflow.reporters.svg import to_svg

    participants = (("B", "Buyer operator"), ("BP", "Buyer Portal"))
    step = Block(Note("1. <step> & more"), (Arrow("B", "BP", "x"),), False)
    short = Diagram(participants, (step,))
    long_label = "a very long operation label " * 4
    wide = Diagram(participants, (Block(Note("1."), (Arrow("B", "BP", long_label),), False),))
    drawn = to_svg(short, ident="t", title="a < b")
    assert "1. &lt;step&gt; &amp; more" in drawn
    assert "<title>a &lt; b</title>" in drawn

    def gap(svg: str) -> float:
        found = re.search(r"<line class='arrow request' x1='([0-9.]+)' [^>]*x2='([0-9.]+)'", svg)
        assert found is not None
        return float(found.group(2)) - float(found.group(1))

    assert gap(to_svg(wide, ident="w", title="w")) > gap(drawn)
    assert gap(to_svg(wide, ident="w", title="w")) >= len(long_label) * 6
