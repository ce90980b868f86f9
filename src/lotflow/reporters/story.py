"""The story report: each scenario as narrative steps plus a sequence diagram of every call and
webhook, as Markdown (``story.md``, the diagram as Mermaid text) and as a self-contained HTML
twin (``story.html``, the diagram drawn as inline SVG, its Mermaid text folded under it).

The HTML page has no scripts and loads nothing from the network (its Content-Security-Policy
forbids it), so it shows the same in any browser, offline, attached to a CI run. Both files say
the same things, built from one narrative and one diagram model (``sequence``).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from lotflow import __version__
from lotflow.engine import events as ev
from lotflow.reporters.mermaid import sequence_diagram, to_mermaid
from lotflow.reporters.sequence import build
from lotflow.reporters.svg import to_svg
from lotflow.reporters.wording import (
    MARKS,
    SKIPPED_NOTE,
    actor_label,
    call_line,
    ending_line,
    failure_details,
    main_call,
    webhook_line,
)

__all__ = ["StoryReporter", "sequence_diagram"]

MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>$|#])")


@dataclass(frozen=True)
class _Narrated:
    """One step in words: the headline and the lines under it."""

    outcome: str
    title: str
    about: str
    details: list[str] = field(default_factory=list)


def _narrate(step: ev.StepResult) -> _Narrated:
    if step.skipped:
        return _Narrated(step.outcome, step.title, SKIPPED_NOTE)
    call = main_call(step)
    about = f"{actor_label(step.actor)}: {call_line(call)}" if call else step.note or step.kind
    details = [webhook_line(w) for w in step.webhooks]
    for failure in step.failures:
        details.append(f"✗ {failure.check}: {failure.message}")
        details += [f"    {line}" for line in failure_details(failure)]
    return _Narrated(step.outcome, step.title, f"{about} · {step.duration:.2f}s", details)


def _md(text: str) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


class StoryReporter:
    """Writes ``<name>.md`` and ``<name>.html`` into ``folder`` when closed."""

    def __init__(self, folder: Path, *, name: str = "story") -> None:
        self.folder = Path(folder)
        self.name = name
        self.run: ev.RunStarted | None = None
        self.started: dict[str, ev.ScenarioStarted] = {}
        self.scenarios: list[ev.ScenarioFinished] = []
        self.ended: ev.RunEnd | None = None

    def handle(self, event: ev.Event) -> None:
        """Keep what the story needs."""
        if isinstance(event, ev.RunStarted):
            self.run = event
        elif isinstance(event, ev.ScenarioStarted):
            self.started[event.slug] = event
        elif isinstance(event, ev.ScenarioFinished):
            self.scenarios.append(event)
        elif isinstance(event, ev.RunFinished | ev.RunInterrupted | ev.RunErrored):
            self.ended = event

    def close(self) -> None:
        """Write both files (creating the folder)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / f"{self.name}.md").write_text(self.markdown(), encoding="utf-8")
        (self.folder / f"{self.name}.html").write_text(self.html(), encoding="utf-8")

    # ---------------------------------------------------------------- shared pieces
    def _headline(self) -> str:
        if self.ended is None:
            return "incomplete run: it ended without saying how"
        return ending_line(self.ended)

    def _facts(self) -> list[str]:
        facts = [f"lotflow {__version__}"]
        if self.run is not None:
            facts += [f"run {self.run.run_id}", f"started {self.run.at}"]
            facts += [f"{k}: {v}" for k, v in self.run.parties.items()]
        return facts

    def _scenario_facts(self, scenario: ev.ScenarioFinished) -> tuple[str, str]:
        started = self.started.get(scenario.slug)
        verdict = "passed" if scenario.passed else "FAILED"
        facts = [f"{verdict} in {scenario.duration:.2f}s"]
        if started is not None and started.source:
            facts.append(started.source)
        if started is not None and started.tags:
            facts.append("tags: " + ", ".join(started.tags))
        description = started.description if started is not None else ""
        return " · ".join(facts), description

    # ---------------------------------------------------------------- Markdown
    def markdown(self) -> str:
        """The whole report as Markdown."""
        parts = ["# lotflow story report", "", f"**{_md(self._headline())}**", ""]
        parts += [" · ".join(_md(f) for f in self._facts()), ""]
        for scenario in self.scenarios:
            parts += self._markdown_scenario(scenario)
        return "\n".join(parts) + "\n"

    def _markdown_scenario(self, scenario: ev.ScenarioFinished) -> list[str]:
        facts, description = self._scenario_facts(scenario)
        mark = MARKS["passed" if scenario.passed else "failed"]
        parts = [f"## {mark} {_md(scenario.name)}", "", f"*{_md(facts)}*", ""]
        parts += [_md(description), ""] if description else []
        for number, step in enumerate(scenario.steps, start=1):
            told = _narrate(step)
            parts.append(
                f"{number}. {MARKS[told.outcome]} **{_md(told.title)}** — {_md(told.about)}"
            )
            parts += [f"   - {_md(line.strip())}" for line in told.details]
        parts += ["", "```mermaid", sequence_diagram(scenario), "```", ""]
        return parts

    # ---------------------------------------------------------------- HTML
    def html(self) -> str:
        """The same report as one self-contained HTML page."""
        facts = "".join(f"<li>{html.escape(f)}</li>" for f in self._facts())
        body = [
            "<h1>lotflow story report</h1>",
            f"<p class='summary'><strong>{html.escape(self._headline())}</strong></p>",
            f"<ul class='facts'>{facts}</ul>",
        ]
        body += [self._html_scenario(s, n) for n, s in enumerate(self.scenarios, start=1)]
        return PAGE.format(body="\n".join(body))

    def _html_scenario(self, scenario: ev.ScenarioFinished, number: int) -> str:
        facts, description = self._scenario_facts(scenario)
        outcome = "passed" if scenario.passed else "failed"
        items = [self._html_step(step) for step in scenario.steps]
        diagram = build(scenario)
        picture = to_svg(diagram, ident=f"d{number}", title=f"Sequence diagram: {scenario.name}")
        return (
            f"<section class='{outcome}'>"
            f"<h2>{MARKS[outcome]} {html.escape(scenario.name)}</h2>"
            f"<p class='facts'>{html.escape(facts)}</p>"
            + (f"<p>{html.escape(description)}</p>" if description else "")
            + f"<ol>{''.join(items)}</ol>"
            "<h3>Sequence diagram</h3>"
            f"<figure class='diagram'>{picture}</figure>"
            "<details><summary>Mermaid source</summary>"
            f"<pre class='mermaid'>{html.escape(to_mermaid(diagram))}</pre></details>"
            "</section>"
        )

    def _html_step(self, step: ev.StepResult) -> str:
        told = _narrate(step)
        details = "".join(f"<li>{html.escape(line.strip())}</li>" for line in told.details)
        title = html.escape(told.title)
        return (
            f"<li class='{told.outcome}'>{MARKS[told.outcome]} <strong>{title}</strong>"
            f" <small>{html.escape(told.about)}</small>"
            + (f"<ul>{details}</ul>" if details else "")
            + "</li>"
        )


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lotflow story report</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 64rem; margin: 2rem auto; padding: 0 1rem;
       color: #1b1f24; line-height: 1.45; }}
section {{ border-left: 4px solid #2da44e; padding: 0 1rem; margin: 2rem 0; }}
section.failed {{ border-color: #cf222e; }}
.facts {{ color: #57606a; font-size: 0.9rem; }}
ul.facts {{ list-style: none; padding: 0; }}
li.failed {{ color: #cf222e; }}
li.skipped {{ color: #8c959f; }}
li ul {{ font-family: ui-monospace, monospace; font-size: 0.85rem; color: #1b1f24; }}
small {{ color: #57606a; }}
figure.diagram {{ margin: 0.5rem 0; }}
figure.diagram svg {{ max-width: 100%; height: auto; }}
details {{ margin: 0.5rem 0 1rem; color: #57606a; }}
pre.mermaid {{ background: #f6f8fa; padding: 1rem; overflow-x: auto; font-size: 0.8rem; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""
