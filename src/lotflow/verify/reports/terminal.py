"""The terminal view of a verify run: a progress bar per check while it runs (on a terminal),
then the scorecard: counts by direction, each check's line, every failure with what the
contract wanted, what was observed and the first request and response, and every subject that
was not run with what to provide."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, TaskID
from rich.table import Table

from lotflow.verify.reports.text import MARKS, exchange_text, outcome_label
from lotflow.verify.results import Outcome, SubjectResult
from lotflow.verify.runner import CheckFinished, CheckStarted, Event, SubjectChecked
from lotflow.verify.scorecard import Scorecard

__all__ = ["TerminalReporter"]

STYLES = {Outcome.PASSED: "green", Outcome.FAILED: "red", Outcome.NOT_RUN: "dim"}


class TerminalReporter:
    """Shows progress from the run's events, then :meth:`summary` prints the scorecard."""

    def __init__(self, console: Console | None = None, *, verbose: bool = False) -> None:
        self.console = console or Console()
        self.verbose = verbose
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def handle(self, event: Event) -> None:
        if isinstance(event, CheckStarted):
            self._start(event)
        elif isinstance(event, SubjectChecked) and self._progress and self._task is not None:
            self._progress.advance(self._task)
        elif isinstance(event, CheckFinished):
            self._finish(event)

    def _start(self, event: CheckStarted) -> None:
        if self.console.is_terminal:
            self._progress = Progress(console=self.console, transient=True)
            self._progress.start()
            self._task = self._progress.add_task(event.check.id, total=event.subjects or None)

    def _finish(self, event: CheckFinished) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        counts = {o: sum(1 for r in event.results if r.outcome is o) for o in Outcome}
        mark = "✗" if counts[Outcome.FAILED] else ("-" if not counts[Outcome.PASSED] else "✓")
        style = "red" if counts[Outcome.FAILED] else "green" if counts[Outcome.PASSED] else "dim"
        self.console.print(
            f"[{style}]{mark}[/] {escape(event.check.id)}  "
            f"{counts[Outcome.PASSED]} passed, {counts[Outcome.FAILED]} failed, "
            f"{counts[Outcome.NOT_RUN]} not run ({event.seconds:.1f} s)"
        )

    def summary(self, card: Scorecard) -> None:
        self._failures(card)
        self._not_run(card)
        self._table(card)
        counts = card.counts()
        self.console.print(
            f"\nScore {card.score:.1f}% — {counts['passed']} passed, {counts['failed']} failed "
            f"({counts['new_failures']} new), {counts['not_run']} not run, in {card.seconds:.1f} s"
        )

    def _table(self, card: Scorecard) -> None:
        for title, grouped in (
            ("direction", card.by_direction()),
            ("operation", card.by_operation()),
        ):
            table = Table(title=f"By {title}", title_justify="left")
            for column in (title, "passed", "failed", "not run"):
                table.add_column(column)
            for name, results in grouped.items():
                c = card.counts(results)
                table.add_row(name, str(c["passed"]), str(c["failed"]), str(c["not_run"]))
            self.console.print(table)

    def _failures(self, card: Scorecard) -> None:
        failures = card.failures()
        if failures:
            self.console.print(f"\n[bold]Failures ({len(failures)})[/]")
        for result in failures:
            self._failure(result)

    def _failure(self, result: SubjectResult) -> None:
        evidence = result.evidence
        assert evidence is not None
        self.console.print(
            f"[red]{MARKS[result.outcome]}[/] [bold]{escape(result.check_id)}[/] "
            f"{escape(result.subject)} [dim]({outcome_label(result)})[/]"
        )
        self.console.print(f"    wanted:   {escape(evidence.expected)}", soft_wrap=True)
        self.console.print(f"    observed: {escape(evidence.observed)}", soft_wrap=True)
        shown = evidence.exchanges if self.verbose else evidence.exchanges[:1]
        for exchange in shown:
            text = exchange_text(exchange)
            self.console.print(escape("    " + text.replace("\n", "\n    ")), soft_wrap=True)

    def _not_run(self, card: Scorecard) -> None:
        skipped = [r for r in card.results if r.outcome is Outcome.NOT_RUN]
        if not skipped:
            return
        self.console.print(f"\n[bold]Not run ({len(skipped)})[/]")
        grouped: dict[tuple[str, str, str], int] = {}
        for r in skipped:
            key = (r.check_id, r.reason, r.remedy)
            grouped[key] = grouped.get(key, 0) + 1
        for (check_id, reason, remedy), count in grouped.items():
            self.console.print(
                f"[dim]- {escape(check_id)} ({count} subject{'s' * (count > 1)}): "
                f"{escape(reason)}; to run: {escape(remedy)}[/]",
                soft_wrap=True,
            )
