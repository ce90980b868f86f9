"""The story report: each scenario as narrative steps plus a sequence diagram of every call and
webhook, as Markdown (``story.md``, the diagram as Mermaid text) and as a self-contained HTML
twin (``story.html``, the diagram drawn as inline SVG, its Mermaid text folded under it).

Both open with a summary table (one row per scenario, linked to its section, with where each
portal ended); each scenario shows what each portal showed of the lot, the bid and the contract
after every step, side by side, as the step's own calls and checks last answered, then a last
row "at the end": each entity read again from its portal once the scenario ended
(``ScenarioFinished.final``; a failed read is "unknown" with its reason). It ends with the
terms of the contract as read at the end. Calls and webhooks are said in the spec's words;
lotflow's own reads are notes, never arrows of the story.

The HTML page has no scripts and loads nothing from the network (its Content-Security-Policy
forbids it), so it shows the same in any browser, offline, attached to a CI run. Both files say
the same things, built from one narrative, one ledger and one diagram model (``sequence``).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from lotflow import __version__
from lotflow.engine import events as ev
from lotflow.reporters.ledger import (
    ENTITIES,
    PARTIES,
    Ledger,
    PartyStates,
    contract_terms,
    end_contract,
    end_states,
)
from lotflow.reporters.mermaid import sequence_diagram, to_mermaid
from lotflow.reporters.sequence import build
from lotflow.reporters.svg import standalone_page, to_svg
from lotflow.reporters.vocabulary import Vocabulary, spec_vocabulary
from lotflow.reporters.wording import (
    MARKS,
    SKIPPED_NOTE,
    actor_label,
    ending_line,
    failure_details,
    main_call,
    told_line,
)

__all__ = ["StoryReporter", "sequence_diagram"]

MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>$|#])")
STATES_CAPTION = (
    "Each row after a step is what that step's own calls and checks last answered (an entity "
    "nobody read again keeps its earlier status there); the last row, at the end, is each "
    "entity read again from its portal once the story ended."
)
END_ROW = "at the end (read again)"


@dataclass(frozen=True)
class _Narrated:
    """One step in words: the headline and the lines under it."""

    outcome: str
    title: str
    about: str
    details: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Told:
    """One scenario, ready to write: its steps in words, the states after each, the states
    read at the end, and the terms of the contract read at the end."""

    scenario: ev.ScenarioFinished
    steps: list[_Narrated]
    states: list[PartyStates]
    end: PartyStates
    terms: list[tuple[str, str]]

    @property
    def ended_with(self) -> str:
        """``buyer: lot sold, bid accepted; producer: lot awarded, bid won`` (or "—")."""
        if self.end.empty:
            return "—"
        return "; ".join(f"{party}: {self.end.line(party)}" for party in PARTIES)


def _narrate(step: ev.StepResult, words: Vocabulary) -> _Narrated:
    if step.skipped:
        return _Narrated(step.outcome, step.title, SKIPPED_NOTE)
    call = main_call(step)
    if call is not None:
        status = call.status if call.status is not None else "no answer"
        about = f"{actor_label(step.actor)}: {words.operation(call.operation)} → {status}"
    else:
        about = step.note or step.kind
    details = [told_line(w, words) for w in step.webhooks]
    for failure in step.failures:
        details.append(f"✗ {failure.check}: {failure.message}")
        details += [f"    {line}" for line in failure_details(failure)]
    return _Narrated(step.outcome, step.title, about, details)


def _md(text: str) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _anchor(slug: str) -> str:
    return "s-" + re.sub(r"[^A-Za-z0-9_-]", "-", slug)


class StoryReporter:
    """Writes ``<name>.md`` and ``<name>.html`` into ``folder`` when closed."""

    def __init__(
        self, folder: Path, *, name: str = "story", vocabulary: Vocabulary | None = None
    ) -> None:
        self.folder = Path(folder)
        self.name = name
        self.words = vocabulary or spec_vocabulary()
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
        if scenario.note:
            facts.append(scenario.note)
        description = started.description if started is not None else ""
        return " · ".join(facts), description

    def _told(self) -> list[_Told]:
        told = []
        for scenario in self.scenarios:
            states = Ledger().after(scenario.steps)
            contract = end_contract(scenario.final)
            terms = contract_terms(contract) if contract is not None else []
            steps = [_narrate(step, self.words) for step in scenario.steps]
            told.append(_Told(scenario, steps, states, end_states(scenario.final), terms))
        return told

    @staticmethod
    def _summary_row(item: _Told) -> list[str]:
        scenario = item.scenario
        ran = sum(1 for s in scenario.steps if not s.skipped)
        contract = dict(item.terms).get("contract", "—")
        verdict = f"{MARKS['passed']} passed" if scenario.passed else f"{MARKS['failed']} failed"
        return [verdict, f"{ran} of {len(scenario.steps)}", item.ended_with, contract]

    # ---------------------------------------------------------------- Markdown
    def markdown(self) -> str:
        """The whole report as Markdown."""
        told = self._told()
        parts = ["# lotflow story report", "", f"**{_md(self._headline())}**", ""]
        parts += [
            "| # | story | result | steps run | where it ended | contract |",
            "|---|---|---|---|---|---|",
        ]
        for number, item in enumerate(told, start=1):
            link = f"[{_md(item.scenario.name)}](#{_anchor(item.scenario.slug)})"
            cells = " | ".join(_md(c) for c in self._summary_row(item))
            parts.append(f"| {number} | {link} | {cells} |")
        parts += ["", " · ".join(_md(f) for f in self._facts()), ""]
        for item in told:
            parts += self._markdown_scenario(item)
        return "\n".join(parts) + "\n"

    def _markdown_scenario(self, item: _Told) -> list[str]:
        scenario = item.scenario
        facts, description = self._scenario_facts(scenario)
        mark = MARKS["passed" if scenario.passed else "failed"]
        parts = [f'<a id="{_anchor(scenario.slug)}"></a>', ""]
        parts += [f"## {mark} {_md(scenario.name)}", "", f"*{_md(facts)}*", ""]
        parts += [_md(description), ""] if description else []
        for number, told in enumerate(item.steps, start=1):
            parts.append(
                f"{number}. {MARKS[told.outcome]} **{_md(told.title)}** — {_md(told.about)}"
            )
            parts += [f"   - {_md(line.strip())}" for line in told.details]
        parts += [
            "",
            "What each portal shows after each step, and at the end:",
            "",
            f"*{_md(STATES_CAPTION)}*",
        ]
        header = [f"{party} {entity}" for party in PARTIES for entity in ENTITIES]
        parts += ["", "| step | " + " | ".join(header) + " |", "|---" * (len(header) + 1) + "|"]
        rows = [(str(n), states) for n, states in enumerate(item.states, start=1)]
        for label, states in [*rows, (END_ROW, item.end)]:
            cells = [states.status(p, e) for p in PARTIES for e in ENTITIES]
            parts.append(f"| {_md(label)} | " + " | ".join(_md(c) for c in cells) + " |")
        if item.terms:
            parts += ["", "The contract's terms (as read at the end):", ""]
            parts += [f"- **{_md(label)}**: {_md(words)}" for label, words in item.terms]
        parts += ["", "```mermaid", sequence_diagram(scenario), "```", ""]
        return parts

    # ---------------------------------------------------------------- HTML
    def html(self) -> str:
        """The same report as one self-contained HTML page."""
        told = self._told()
        facts = "".join(f"<li>{html.escape(f)}</li>" for f in self._facts())
        body = [
            "<h1>lotflow story report</h1>",
            f"<p class='summary'><strong>{html.escape(self._headline())}</strong></p>",
            self._html_summary(told),
            f"<ul class='facts'>{facts}</ul>",
        ]
        body += [self._html_scenario(item, n) for n, item in enumerate(told, start=1)]
        return standalone_page("lotflow story report", STYLE, "\n".join(body))

    def _html_summary(self, told: list[_Told]) -> str:
        rows = []
        for number, item in enumerate(told, start=1):
            scenario = item.scenario
            outcome = "passed" if scenario.passed else "failed"
            link = f"<a href='#{_anchor(scenario.slug)}'>{html.escape(scenario.name)}</a>"
            cells = "".join(f"<td>{html.escape(c)}</td>" for c in self._summary_row(item))
            rows.append(f"<tr class='{outcome}'><td>{number}</td><td>{link}</td>{cells}</tr>")
        return (
            "<div class='scroll'><table class='scenarios'><thead><tr><th>#</th><th>story</th>"
            "<th>result</th><th>steps run</th><th>where it ended</th><th>contract</th></tr>"
            "</thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )

    def _html_scenario(self, item: _Told, number: int) -> str:
        scenario = item.scenario
        facts, description = self._scenario_facts(scenario)
        outcome = "passed" if scenario.passed else "failed"
        steps = "".join(_html_step(told) for told in item.steps)
        diagram = build(scenario, words=self.words)
        picture = to_svg(diagram, ident=f"d{number}", title=f"Sequence diagram: {scenario.name}")
        return (
            f"<section id='{_anchor(scenario.slug)}' class='{outcome}'>"
            f"<h2>{MARKS[outcome]} {html.escape(scenario.name)}</h2>"
            f"<p class='facts'>{html.escape(facts)}</p>"
            + (f"<p>{html.escape(description)}</p>" if description else "")
            + f"<ol>{steps}</ol>"
            "<h3>What each portal shows after each step, and at the end</h3>"
            + _html_states(item)
            + "<h3>Sequence diagram</h3>"
            f"<figure class='diagram'>{picture}</figure>"
            "<details><summary>Mermaid source</summary>"
            f"<pre class='mermaid'>{html.escape(to_mermaid(diagram))}</pre></details>"
            + _html_terms(item.terms)
            + "</section>"
        )


def _html_step(told: _Narrated) -> str:
    details = "".join(f"<li>{html.escape(line.strip())}</li>" for line in told.details)
    return (
        f"<li class='{told.outcome}'>{MARKS[told.outcome]} <strong>{html.escape(told.title)}"
        f"</strong> <small>{html.escape(told.about)}</small>"
        + (f"<ul>{details}</ul>" if details else "")
        + "</li>"
    )


def _html_states(item: _Told) -> str:
    groups = "".join(f"<th colspan='3'>{party} portal</th>" for party in PARTIES)
    kinds = "".join(f"<th>{entity}</th>" for _ in PARTIES for entity in ENTITIES)
    rows = []
    for number, (told, states) in enumerate(zip(item.steps, item.states, strict=True), start=1):
        title = html.escape(f"{number}. {told.title}")
        rows.append(f"<tr class='{told.outcome}'><th scope='row'>{title}</th>{_cells(states)}</tr>")
    end = f"<tr class='end'><th scope='row'>{END_ROW}</th>{_cells(item.end)}</tr>"
    return (
        "<div class='scroll'><table class='states'>"
        f"<caption>{html.escape(STATES_CAPTION)}</caption>"
        f"<thead><tr><th rowspan='2'>after step</th>{groups}</tr><tr>{kinds}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody><tfoot>{end}</tfoot></table></div>"
    )


def _cells(states: PartyStates) -> str:
    return "".join(
        f"<td>{html.escape(states.status(p, e))}</td>" for p in PARTIES for e in ENTITIES
    )


def _html_terms(terms: list[tuple[str, str]]) -> str:
    if not terms:
        return ""
    rows = "".join(
        f"<dt>{html.escape(label)}</dt><dd>{html.escape(words)}</dd>" for label, words in terms
    )
    return f"<h3>The contract's terms (as read at the end)</h3><dl class='terms'>{rows}</dl>"


STYLE = """\
body { font-family: system-ui, sans-serif; max-width: 64rem; margin: 2rem auto; padding: 0 1rem;
       color: #1b1f24; line-height: 1.45; overflow-wrap: anywhere; }
section { border-left: 4px solid #2da44e; padding: 0 1rem; margin: 2rem 0; }
section.failed { border-color: #cf222e; }
.facts { color: #57606a; font-size: 0.9rem; }
ul.facts { list-style: none; padding: 0; }
li.failed, tr.failed td:first-child { color: #cf222e; }
li.skipped, tr.skipped { color: #8c959f; }
li ul { font-family: ui-monospace, monospace; font-size: 0.85rem; color: #1b1f24; }
small { color: #57606a; }
.scroll { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border: 1px solid #d0d7de; padding: 0.2rem 0.5rem; text-align: left;
          vertical-align: top; }
thead th { background: #f6f8fa; }
table.states td { white-space: nowrap; }
table.states caption { caption-side: top; text-align: left; color: #57606a; padding: 0.2rem 0; }
table.states tfoot th, table.states tfoot td { font-weight: 600; border-top: 2px solid #57606a;
                                              white-space: normal; }
dl.terms { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
dl.terms dt { font-weight: 600; }
dl.terms dd { margin: 0; }
figure.diagram { margin: 0.5rem 0; }
figure.diagram svg { max-width: 100%; height: auto; }
details { margin: 0.5rem 0 1rem; color: #57606a; }
pre.mermaid { background: #f6f8fa; padding: 1rem; overflow-x: auto; font-size: 0.8rem; }
"""
