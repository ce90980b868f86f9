"""Live terminal output a non-engineer can follow (plain text when not a terminal)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from lotflow.engine import events as ev

MARKS = {"passed": "[green]✓[/]", "failed": "[red]✗[/]", "skipped": "[dim]-[/]"}


class TerminalReporter:
    """Narrates the run: each scenario, each step, the webhooks seen, and what went wrong."""

    def __init__(self, console: Console | None = None, *, verbose: bool = False) -> None:
        self.console = console or Console(highlight=False)
        self.verbose = verbose
        self.total = self.done = 0

    def handle(self, event: ev.Event) -> None:
        method = getattr(self, f"_on_{type(event).__name__}", None)
        if method:
            method(event)

    def close(self) -> None:
        return None

    def _on_RunStarted(self, event: ev.RunStarted) -> None:  # noqa: N802 - named after the event
        self.total = event.total_steps
        parties = ", ".join(f"{k}: {v}" for k, v in event.parties.items())
        self.console.print(
            f"[bold]lotflow[/] — {len(event.scenarios)} scenario(s), {event.total_steps} steps "
            f"({escape(parties)})"
        )

    def _on_ScenarioStarted(self, event: ev.ScenarioStarted) -> None:  # noqa: N802
        self.console.print()
        self.console.rule(f"[bold]{event.index}/{event.total} {escape(event.name)}", align="left")
        if event.description:
            self.console.print(f"[dim]{escape(event.description)}[/]")

    def _on_StepPassed(self, event: ev.StepPassed) -> None:  # noqa: N802
        self._step(event.result, "passed")

    def _on_StepFailed(self, event: ev.StepFailed) -> None:  # noqa: N802
        self._step(event.result, "failed")

    def _on_StepSkipped(self, event: ev.StepSkipped) -> None:  # noqa: N802
        self._step(event.result, "skipped")

    def _step(self, result: ev.StepResult, outcome: str) -> None:
        self.done += 1
        progress = f"[dim]{self.done:>3}/{self.total}[/]"
        who = (
            f"[cyan]{escape(result.actor)}[/]"
            if result.kind == "call"
            else f"[dim]{result.kind}[/]"
        )
        note = (
            " [dim](skipped: an earlier step failed)[/]"
            if result.skipped
            else f" [dim]{result.duration:.2f}s[/]"
        )
        self.console.print(f"{progress} {MARKS[outcome]} {escape(result.title)} — {who}{note}")
        for webhook in result.webhooks:
            answer = f"answered {webhook.status}" if webhook.status else "no answer"
            colour = "green" if webhook.delivered else "yellow"
            self.console.print(
                f"          [{colour}]↳ producer received {webhook.event} (attempt "
                f"{webhook.attempt}, {answer})[/]"
            )
        for failure in result.failures:
            self.console.print(
                f"          [red]{escape(failure.check)}: {escape(failure.message)}[/]"
            )
            if self.verbose and failure.observed is not None:
                self.console.print(
                    f"          [dim]observed: {escape(_short(failure.observed))}[/]"
                )

    def _on_ScenarioFinished(self, event: ev.ScenarioFinished) -> None:  # noqa: N802
        verdict = "[green]passed[/]" if event.passed else "[red]FAILED[/]"
        self.console.print(f"    {verdict} in {event.duration:.2f}s")

    def _on_RunFinished(self, event: ev.RunFinished) -> None:  # noqa: N802
        self.console.print()
        colour = "green" if event.ok else "red"
        self.console.print(
            f"[bold {colour}]{event.passed} passed, {event.failed} failed[/] "
            f"({event.steps_passed} steps passed, {event.steps_failed} failed, "
            f"{event.steps_skipped} skipped) in {event.duration:.2f}s"
        )


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
