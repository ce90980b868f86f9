"""A scenario's sequence diagram (``sequence``) as Mermaid ``sequenceDiagram`` text, for the
Markdown story and for anyone who pastes it into a Mermaid viewer."""

from __future__ import annotations

from lotflow.engine import events as ev
from lotflow.reporters.sequence import Arrow, Diagram, Note, build

__all__ = ["mermaid_text", "sequence_diagram", "to_mermaid"]

ESCAPES = {"#": "#35;", ";": "#59;", "<": "#60;", ">": "#62;", "\n": " ", "\r": " "}
FAILED_SHADE = "rgba(207, 34, 46, 0.12)"


def mermaid_text(text: str) -> str:
    """``text`` safe inside a Mermaid message or note (entity codes for # ; < >)."""
    return "".join(ESCAPES.get(char, char) for char in text)


def sequence_diagram(scenario: ev.ScenarioFinished, default_alias: str = "alpha") -> str:
    """Mermaid ``sequenceDiagram`` text for one finished scenario."""
    return to_mermaid(build(scenario, default_alias))


def to_mermaid(diagram: Diagram) -> str:
    """The diagram as Mermaid text."""
    keys = [key for key, _ in diagram.participants]
    span = f"{keys[0]},{keys[-1]}"
    lines = ["sequenceDiagram"]
    lines += [f"    participant {key} as {name}" for key, name in diagram.participants]
    for block in diagram.blocks:
        body = [_line(block.heading, span)] + [_line(item, span) for item in block.items]
        if block.failed:
            body = [f"    rect {FAILED_SHADE}", *(f"    {line}" for line in body), "    end"]
        lines += body
    return "\n".join(lines)


def _line(item: Arrow | Note, span: str) -> str:
    if isinstance(item, Note):
        return f"    Note over {item.over or span}: {mermaid_text(item.text)}"
    kind = {(False, False): "->>", (False, True): "-x", (True, False): "-->>", (True, True): "--x"}[
        (item.answer, item.lost)
    ]
    return f"    {item.source}{kind}{item.target}: {mermaid_text(item.label)}"
