"""Live terminal output a non-engineer can follow; plain text when not a terminal (CI logs).

Each scenario is a heading, each step a line with ✓/✗ and its title, the webhooks underneath in
the spec's words, and for a failure what was expected and what was observed. A scenario ends
with where each party stands (lot, bid, contract) as read again from each portal once the
scenario ended (``ScenarioFinished.final``; with ``verbose``, the reads that said so), and
the contract's terms. Operation ids,
timings, attempt counts and the parties' URLs are engineer detail: shown with ``verbose``.
Every step line starts with ``[n/m]``; on a terminal a transient status line also names the
step that is running.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.status import Status

from lotflow.engine import events as ev
from lotflow.reporters.ledger import PARTIES, contract_terms, end_contract, end_states
from lotflow.reporters.vocabulary import Vocabulary, spec_vocabulary
from lotflow.reporters.wording import (
    MARKS,
    SKIPPED_NOTE,
    actor_label,
    call_line,
    ending_line,
    failure_details,
    first_failure,
    main_call,
    told_line,
    webhook_line,
)

STYLES = {"passed": "green", "failed": "red", "skipped": "dim"}

INDENT = " " * 10


class TerminalReporter:
    """Narrates a run on a rich Console. ``verbose`` adds request/response excerpts to failures;
    ``live`` (default: when the console is a terminal) shows a transient "running" line."""

    def __init__(
        self,
        console: Console | None = None,
        *,
        verbose: bool = False,
        live: bool | None = None,
        vocabulary: Vocabulary | None = None,
    ) -> None:
        self.console = console or Console(highlight=False)
        self.verbose = verbose
        self.words = vocabulary or spec_vocabulary()
        self.live = (
            self.console.is_terminal and not self.console.is_dumb_terminal if live is None else live
        )
        self.total = 0
        self.done = 0
        self._status: Status | None = None
        self._failed: list[ev.ScenarioFinished] = []
        self._sources: dict[str, str] = {}
        self._handlers: dict[type[Any], Callable[[Any], None]] = {
            ev.RunStarted: self._run_started,
            ev.ScenarioStarted: self._scenario_started,
            ev.StepStarted: self._step_started,
            ev.StepPassed: self._step_ended,
            ev.StepFailed: self._step_ended,
            ev.StepSkipped: self._step_ended,
            ev.ScenarioFinished: self._scenario_finished,
            ev.RunFinished: self._run_finished,
            ev.RunInterrupted: self._run_finished,
            ev.RunErrored: self._run_finished,
        }

    def handle(self, event: ev.Event) -> None:
        """Print what ``event`` means."""
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def close(self) -> None:
        """Stop the live status line, if any."""
        if self._status is not None:
            self._status.stop()
            self._status = None

    def _print(self, text: str) -> None:
        self.console.print(text, highlight=False, soft_wrap=not self.console.is_terminal)

    def _run_started(self, event: ev.RunStarted) -> None:
        self.total = event.total_steps
        count = f"{_count(len(event.scenarios), 'story', 'stories')}, "
        count += _count(event.total_steps, "step", "steps")
        self._print(f"[bold]lotflow[/] · {count}")
        if self.verbose:
            for name, value in event.parties.items():
                self._print(f"  [dim]{escape(name)}:[/] {escape(value)}")

    def _scenario_started(self, event: ev.ScenarioStarted) -> None:
        self._sources[event.slug] = event.source
        self._print("")
        self._print(f"[bold]{event.index}/{event.total} · {escape(event.name)}[/]")
        if event.description:
            self._print(f"[dim]{escape(event.description)}[/]")

    def _step_started(self, event: ev.StepStarted) -> None:
        if not self.live:
            return
        text = f"Step {self.done + 1} of {self.total}: {escape(event.title)}…"
        if self._status is None:
            self._status = self.console.status(text)
            self._status.start()
        else:
            self._status.update(text)

    def _step_ended(self, event: ev.StepPassed | ev.StepFailed | ev.StepSkipped) -> None:
        result = event.result
        self.done += 1
        width = len(str(self.total))
        progress = f"[dim]\\[{self.done:>{width}}/{self.total}][/]"
        mark = f"[{STYLES[result.outcome]}]{MARKS[result.outcome]}[/]"
        about = f" [dim]({self._about(result)})[/]" if self.verbose or result.skipped else ""
        self._print(f"{progress} {mark} {escape(result.title)}{about}")
        for webhook in result.webhooks:
            colour = "green" if webhook.delivered else "yellow"
            told = webhook_line(webhook) if self.verbose else told_line(webhook, self.words)
            self._print(f"{INDENT}[{colour}]{escape(told)}[/]")
        for failure in result.failures:
            self._failure(failure)

    def _about(self, result: ev.StepResult) -> str:
        if result.skipped:
            return SKIPPED_NOTE
        call = main_call(result)
        what = (
            f"{actor_label(result.actor)}: {call_line(call)}"
            if call
            else result.note or result.kind
        )
        return escape(f"{what}, {result.duration:.2f}s")

    def _failure(self, failure: ev.Failure) -> None:
        self._print(f"{INDENT}[red]✗ {escape(failure.check)}: {escape(failure.message)}[/]")
        for line in failure_details(failure, verbose=self.verbose):
            self._print(f"{INDENT}  [dim]{escape(line)}[/]")

    def _scenario_finished(self, event: ev.ScenarioFinished) -> None:
        took = f" in {event.duration:.2f}s" if self.verbose else ""
        if event.passed:
            self._print(f"[green]✓ passed[/]{took}")
        else:
            self._failed.append(event)
            failed = first_failure(event)
            where = f" at step {escape(repr(failed.step_id))}" if failed else ""
            self._print(f"[red]✗ FAILED{where}[/]{took}")
        if event.note:
            self._print(f"  [dim]{escape(event.note)}[/]")
        self._standing(event.final)

    def _standing(self, final: tuple[ev.FinalRead, ...]) -> None:
        states = end_states(final)
        if states.empty:
            return
        for party in PARTIES:
            self._print(f"  [dim]{party} portal now shows:[/] {escape(states.line(party))}")
        if self.verbose:
            reads = ", ".join(f"{r.actor} {call_line(r.exchange)}" for r in final if r.exchange)
            self._print(f"  [dim]read again at the end: {escape(reads or 'nothing')}[/]")
        contract = end_contract(final)
        if contract is not None:
            terms = " · ".join(f"{label} {words}" for label, words in contract_terms(contract))
            self._print(f"  [dim]the contract:[/] {escape(terms)}")

    def _run_finished(self, event: ev.RunEnd) -> None:
        self.close()
        colour = "green" if event.ok else "red"
        self._print("")
        self._print(f"[bold {colour}]{escape(ending_line(event))}[/]")
        for scenario in self._failed:
            failed = first_failure(scenario)
            source = self._sources.get(scenario.slug) or scenario.slug
            step = f": step {failed.step_id!r} ({source}:{failed.line})" if failed else ""
            self._print(f"  [red]✗[/] {escape(scenario.name)}{escape(step)}")


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"
