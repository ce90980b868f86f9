"""The workflow's state machines as pictures: Mermaid text, and SVG/HTML drawn by the story's
own renderer (``lotflow.reporters.svg``), for ``lotflow spec diagram``.

A transition is labelled with its outcome first: the transition's ``when`` from
``spec/workflow.yaml`` (``accept: false``), then what causes it (``via acceptCounterOffer``) and
the events it emits, so that ``countered → pending`` does not read as an acceptance.
"""

from __future__ import annotations

import html

from lotflow.reporters.sequence import Arrow, Block, Diagram, Note
from lotflow.reporters.svg import standalone_page, to_svg
from lotflow.workflow import StateMachine, Transition

__all__ = ["machines_html", "outcome_label", "state_mermaid", "state_svg"]

START = "[*]"


def outcome_label(transition: Transition) -> str:
    """``accept: false, via acceptCounterOffer ⇒ bid.accepted`` (outcome, cause, events)."""
    cause = f"via {transition.cause}"
    label = f"{transition.when}, {cause}" if transition.when else str(transition.cause)
    return label + (f" ⇒ {', '.join(transition.emits)}" if transition.emits else "")


def state_mermaid(machine: StateMachine) -> str:
    """The machine as a Mermaid ``stateDiagram-v2`` with outcome labels."""
    edges: dict[str, None] = {}  # ordered set: one arrow per distinct edge and label
    for t in machine.transitions:
        label = outcome_label(t)
        for source in t.source or (START,):
            edges[f"    {source} --> {t.target}: {label}"] = None
    lines = ["stateDiagram-v2", f"    %% {machine.name}: {machine.description}", *edges]
    lines += [f"    {state} --> [*]" for state in sorted(machine.terminal)]
    return "\n".join(lines)


def state_svg(machine: StateMachine, ident: str = "m") -> str:
    """The machine as an SVG picture: one column per state, one row per transition."""
    names = [(START, "(new)")] if any(t.creates for t in machine.transitions) else []
    names += [
        (state, state + (" ■" if state in machine.terminal else "")) for state in machine.states
    ]
    arrows = tuple(
        Arrow(source, t.target, outcome_label(t))
        for t in machine.transitions
        for source in t.source or (START,)
    )
    heading = Note(f"{machine.name}: {len(machine.transitions)} transitions (■ terminal)")
    diagram = Diagram(tuple(names), (Block(heading, arrows, False),))
    return to_svg(diagram, ident=ident, title=f"State machine {machine.name}")


def machines_html(machines: list[StateMachine]) -> str:
    """One self-contained page (no script, nothing fetched) with every machine drawn."""
    sections = "".join(
        f"<section><h2>{html.escape(m.name)}</h2><p>{html.escape(m.description)}</p>"
        f"<figure>{state_svg(m, f'm{i}')}</figure></section>"
        for i, m in enumerate(machines, start=1)
    )
    body = f"<h1>lotflow workflow state machines</h1>\n{sections}"
    return standalone_page("lotflow workflow state machines", STYLE, body)


STYLE = """\
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       color: #1b1f24; }
figure { margin: 0.5rem 0 2rem; }
figure svg { max-width: 100%; height: auto; }
"""
