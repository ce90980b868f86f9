"""The story report: each scenario as narrative steps and a Mermaid sequence diagram of every call
and webhook between the two portals, as Markdown and as a self-contained HTML page (no scripts,
nothing loaded from the network; the diagram text reads fine without Mermaid)."""

from __future__ import annotations

import html
from pathlib import Path

from lotflow import __version__
from lotflow.engine import events as ev

PARTICIPANTS = (
    ("B", "Buyer operator"),
    ("BP", "Buyer Portal"),
    ("PP", "Producer Portal"),
    ("P", "Producer operator"),
)
MARK = {"passed": "✓", "failed": "✗", "skipped": "-"}


def sequence_diagram(scenario: ev.ScenarioFinished) -> str:
    """Mermaid ``sequenceDiagram`` text for one scenario."""
    lines = ["sequenceDiagram"] + [f"    participant {key} as {name}" for key, name in PARTICIPANTS]
    for step in scenario.steps:
        if step.skipped:
            continue
        lines.append(f"    Note over B,P: {_clean(step.title)}")
        if step.kind == "outage":
            lines.append("    Note over PP: offline or back (simulated by lotflow)")
        if step.kind == "call" and step.exchanges:
            lines += _call_lines(step.actor, step.exchanges[0])
        for webhook in step.webhooks:
            lines.append(f"    BP->>PP: {webhook.event} (webhook, attempt {webhook.attempt})")
            lines.append(f"    PP-->>BP: {webhook.status or 'no answer'}")
    return "\n".join(lines)


def _call_lines(actor: str, call: ev.Exchange) -> list[str]:
    if actor == "buyer":
        source, target = "B", "BP"
    elif call.party == "buyer":
        source, target = "PP", "BP"  # the producer portal calling the buyer's API
    else:
        source, target = "P", "PP"
    return [
        f"    {source}->>{target}: {call.operation}",
        f"    {target}-->>{source}: {call.status}",
    ]


def _clean(text: str) -> str:
    return text.replace(";", ",").replace("#", "no.").replace(":", " -")


def _outcome(step: ev.StepResult) -> str:
    return "skipped" if step.skipped else "passed" if step.passed else "failed"


class StoryReporter:
    """Writes ``story.md`` and ``story.html`` into a folder when the run ends."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.scenarios: list[ev.ScenarioFinished] = []
        self.descriptions: dict[str, str] = {}
        self.summary: ev.RunFinished | None = None

    def handle(self, event: ev.Event) -> None:
        if isinstance(event, ev.ScenarioStarted):
            self.descriptions[event.slug] = event.description
        elif isinstance(event, ev.ScenarioFinished):
            self.scenarios.append(event)
        elif isinstance(event, ev.RunFinished):
            self.summary = event

    def close(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "story.md").write_text(self.markdown(), encoding="utf-8")
        (self.folder / "story.html").write_text(self.html(), encoding="utf-8")

    def _headline(self) -> str:
        s = self.summary
        return (
            f"{s.passed} passed, {s.failed} failed "
            f"({s.steps_passed + s.steps_failed + s.steps_skipped} steps, {s.duration:.2f}s)"
            if s
            else "incomplete run"
        )

    def markdown(self) -> str:
        parts = [f"# lotflow story report\n\n{self._headline()} · lotflow {__version__}\n"]
        for scenario in self.scenarios:
            verdict = "passed" if scenario.passed else "FAILED"
            parts.append(
                f"\n## {scenario.name} — {verdict}\n\n{self.descriptions.get(scenario.slug, '')}\n"
            )
            for step in scenario.steps:
                parts.append(f"- {MARK[_outcome(step)]} **{step.title}** ({step.actor})")
                parts += [f"  - {f.check}: {f.message}" for f in step.failures]
            parts.append(f"\n```mermaid\n{sequence_diagram(scenario)}\n```\n")
        return "\n".join(parts)

    def html(self) -> str:
        body = [
            f"<h1>lotflow story report</h1><p class='summary'>{html.escape(self._headline())}</p>"
        ]
        for scenario in self.scenarios:
            verdict = "passed" if scenario.passed else "failed"
            body.append(
                f"<section class='{verdict}'><h2>{html.escape(scenario.name)} "
                f"<span>{verdict}</span></h2>"
            )
            body.append(f"<p>{html.escape(self.descriptions.get(scenario.slug, ''))}</p><ol>")
            for step in scenario.steps:
                outcome = _outcome(step)
                failures = "".join(
                    f"<div class='failure'>{html.escape(f.check)}: {html.escape(f.message)}</div>"
                    for f in step.failures
                )
                body.append(
                    f"<li class='{outcome}'>{MARK[outcome]} {html.escape(step.title)} "
                    f"<small>{html.escape(step.actor)}</small>{failures}</li>"
                )
            diagram = html.escape(sequence_diagram(scenario))
            body.append(f"</ol><pre class='mermaid'>{diagram}</pre></section>")
        return PAGE.format(body="\n".join(body))


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lotflow story report</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #1b1f24; }}
section {{ border-left: 4px solid #2da44e; padding: 0 1rem; margin: 2rem 0; }}
section.failed {{ border-color: #cf222e; }}
h2 span {{ font-size: 0.8rem; text-transform: uppercase; color: #57606a; }}
li.failed {{ color: #cf222e; }} li.skipped {{ color: #8c959f; }}
.failure {{ font-family: monospace; font-size: 0.85rem; margin-left: 1.5rem; }}
pre.mermaid {{ background: #f6f8fa; padding: 1rem; overflow-x: auto; font-size: 0.8rem; }}
small {{ color: #57606a; }}
</style></head><body>
{body}
</body></html>
"""
