"""The story report: narrative steps and a Mermaid sequence diagram, in Markdown and in HTML."""

from __future__ import annotations

import html
import re
from pathlib import Path

from lotflow.reporters.mermaid import mermaid_text, sequence_diagram
from lotflow.reporters.story import StoryReporter
from tests.reporters.stream import FIRST, HAPPY, OUTAGE, SECOND, feed, finished


def written(tmp_path: Path) -> tuple[str, str]:
    feed(StoryReporter(tmp_path / "report"))
    folder = tmp_path / "report"
    return (folder / "story.md").read_text(encoding="utf-8"), (folder / "story.html").read_text(
        encoding="utf-8"
    )


def test_every_call_is_an_arrow_from_who_made_it_to_the_portal_with_the_status() -> None:
    diagram = sequence_diagram(finished(HAPPY, "02", False, FIRST))
    assert diagram.startswith("sequenceDiagram\n    participant B as Buyer operator\n")
    assert "    B->>BP: createLot\n    BP-->>B: 201" in diagram
    assert (
        "        B->>BP: counterBid\n        BP--xB: 409" in diagram
    )  # inside the failed step's shade
    assert "L->>PP: getMarketplaceLot (check)" in diagram
    assert "The producer accepts the counter-offer" not in diagram  # skipped steps did nothing


def test_producers_act_as_their_alias_and_call_the_buyer_from_their_portal() -> None:
    diagram = sequence_diagram(finished(OUTAGE, "07", True, SECOND))
    assert "participant P_beta as Producer operator (beta)" in diagram
    assert "P_beta->>PP: submitProducerBid" in diagram
    assert "PP->>BP: submitBid" in diagram


def test_every_webhook_is_an_arrow_from_buyer_to_producer_with_attempt_and_outcome() -> None:
    diagram = sequence_diagram(finished(OUTAGE, "07", True, SECOND))
    assert "BP->>PP: bid.accepted (webhook, attempt 1)\n    PP--xBP: 503, not delivered" in diagram
    assert "BP->>PP: bid.accepted (webhook, attempt 2)\n    PP-->>BP: 200" in diagram
    assert "PP--xBP: no answer" in diagram
    assert "Note over PP: the producer portal goes offline" in diagram


def test_steps_are_notes_and_a_failed_step_is_shaded() -> None:
    diagram = sequence_diagram(finished(HAPPY, "02", False, FIRST))
    assert "Note over B,L: ✓ 1. The buyer drafts a lot at $6.50/gal" in diagram
    assert re.search(r"rect rgba\([^)]*\)\n\s+Note over B,L: ✗ 3\. The buyer counters", diagram)
    assert diagram.rstrip().endswith("end")


def test_mermaid_text_escapes_what_would_break_a_diagram() -> None:
    assert mermaid_text("a; b #1 <x>\nnext") == "a#59; b #35;1 #60;x#62; next"


def test_the_markdown_tells_each_scenario_and_embeds_its_diagram(tmp_path: Path) -> None:
    markdown, _ = written(tmp_path)
    assert markdown.startswith("# lotflow story report\n")
    assert "**1 passed, 1 failed (8 steps: 6 passed, 1 failed, 1 skipped) in 2.00s**" in markdown
    assert "## ✗ Counter-offer accepted; the contract carries the counter terms" in markdown
    assert (
        "1. ✓ **The buyer drafts a lot at \\$6.50/gal** — the buyer: createLot → 201 · 0.25s"
        in markdown
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
    assert not re.search(r"\b(src|href)=", page)
    assert "default-src 'none'" in page
    assert "<pre class='mermaid'>sequenceDiagram" in page
    assert html.escape("B->>BP: createLot") in page
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert "The buyer counters at $6.40/gal" in text
    assert "✗ status: counterBid answered 409, expected 201" in text
    assert "→ producer received bid.accepted (attempt 2)" in text
    assert "B->>BP: createLot" in text


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
