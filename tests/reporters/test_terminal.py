"""The terminal narration, as a person (or a CI log) sees it."""

from __future__ import annotations

import io

from rich.console import Console

from lotflow.reporters.terminal import TerminalReporter
from lotflow.reporters.vocabulary import spec_vocabulary
from tests.reporters.stream import feed


def narrate(*, verbose: bool = False, terminal: bool = False) -> str:
    out = io.StringIO()
    console = Console(
        file=out, width=120, force_terminal=terminal, color_system="standard" if terminal else None
    )
    feed(TerminalReporter(console, verbose=verbose))
    return out.getvalue()


def test_each_step_is_a_line_with_its_mark_progress_and_title_without_engineer_detail() -> None:
    text = narrate()
    assert "[1/8] ✓ The buyer drafts a lot at $6.50/gal\n" in text
    assert "createLot" not in text
    assert "0.25s" not in text
    assert (
        "[4/8] - The producer accepts the counter-offer (skipped: an earlier step failed)" in text
    )


def test_verbose_adds_operation_ids_and_timings_to_each_step() -> None:
    text = narrate(verbose=True)
    assert "[1/8] ✓ The buyer drafts a lot at $6.50/gal (the buyer: createLot → 201, 0.25s)" in text
    assert "[3/8] ✗ The buyer counters at $6.40/gal (the buyer: counterBid → 409, 0.25s)" in text
    assert (
        "[4/8] - The producer accepts the counter-offer (skipped: an earlier step failed)" in text
    )
    assert "[5/8] ✓ Producer beta bids (producer beta: submitProducerBid → 201, 0.25s)" in text


def test_webhooks_are_told_in_the_specs_words_and_attempts_only_when_verbose() -> None:
    text = narrate()
    said = spec_vocabulary().event("lot.published")
    assert said != "lot.published"  # the spec's summary, not the event's name
    assert f"→ the producer portal is told: {said}" in text
    accepted = spec_vocabulary().event("bid.accepted")
    assert f"→ not delivered to the producer portal (it answered 503): {accepted}" in text
    assert f"→ the producer portal is told (on a retry): {accepted}" in text
    assert "attempt" not in text
    text = narrate(verbose=True)
    assert "→ producer received lot.published (attempt 1)" in text
    assert "→ bid.accepted not delivered: producer answered 503 (attempt 1)" in text
    assert "→ producer received bid.accepted (attempt 2)" in text
    assert "→ contract.created not delivered: no answer (attempt 1)" in text


def test_a_failure_says_what_was_expected_and_what_was_observed() -> None:
    text = narrate()
    assert "✗ status: counterBid answered 409, expected 201" in text
    assert "expected: 201" in text
    assert 'observed: {"code": "illegal_transition"}' in text
    assert "request: POST" not in text  # excerpts only when verbose


def test_verbose_adds_the_request_and_response() -> None:
    text = narrate(verbose=True)
    assert 'request: POST http://buyer.test/api/bids/b1/counter {"pricePerUnit": 6.4}' in text
    assert 'response: 409 {"code": "illegal_transition"}' in text


def test_scenarios_have_headings_verdicts_and_the_run_a_summary() -> None:
    text = narrate()
    assert "1/2 · Counter-offer accepted; the contract carries the counter terms" in text
    assert "The buyer counters; the producer accepts." in text
    assert "✗ FAILED at step 'counter-bid'\n" in text
    assert "✓ passed\n" in text
    assert "1 passed, 1 failed (8 steps: 6 passed, 1 failed, 1 skipped) in 2.00s" in text
    where = "step 'counter-bid' (scenarios/02-counter.yaml:33)"
    assert f"✗ Counter-offer accepted; the contract carries the counter terms: {where}" in text


def test_outside_a_terminal_the_output_is_plain_text() -> None:
    text = narrate()
    assert "\x1b[" not in text
    assert "buyer: http://buyer.test" in narrate(verbose=True)


def test_on_a_terminal_a_live_status_runs_and_stops_and_colours_are_used() -> None:
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=True, color_system="standard")
    reporter = TerminalReporter(console)
    assert reporter.live
    feed(reporter)
    printed = out.getvalue()
    hidden, shown = printed.rfind("\x1b[?25l"), printed.rfind("\x1b[?25h")
    assert hidden != -1  # the live status ran (it hides the cursor)...
    assert shown > hidden  # ...and stopped at the end of the run (the cursor is back)
    assert "The buyer publishes the lot" in out.getvalue()


def test_verbose_names_the_reads_that_told_where_each_story_ended() -> None:
    line = "  read again at the end: buyer getLot → 404, buyer get-contract → 200, producer:beta"
    assert line in narrate(verbose=True)
    assert "read again at the end" not in narrate()
