"""A scenario's calls and webhooks as a Mermaid ``sequenceDiagram`` (text only).

Participants: the buyer operator, the Buyer Portal, the Producer Portal, one producer operator
per alias that acted, and lotflow itself when it checked state or controlled the tap. Every call
is an arrow from who made it to the portal that answered, with the status; every webhook is an
arrow from the Buyer Portal to the Producer Portal with its event, attempt and answer. Steps are
notes; a failed step is shaded.
"""

from __future__ import annotations

from lotflow.engine import events as ev
from lotflow.reporters.wording import MARKS

BUYER, BUYER_PORTAL, PRODUCER_PORTAL, LOTFLOW = "B", "BP", "PP", "L"
FIXED_NAMES = {
    BUYER: "Buyer operator",
    BUYER_PORTAL: "Buyer Portal",
    PRODUCER_PORTAL: "Producer Portal",
    LOTFLOW: "lotflow",
}
ESCAPES = {"#": "#35;", ";": "#59;", "<": "#60;", ">": "#62;", "\n": " ", "\r": " "}
FAILED_SHADE = "rgba(207, 34, 46, 0.12)"


def mermaid_text(text: str) -> str:
    """``text`` safe inside a Mermaid message or note (entity codes for # ; < >)."""
    return "".join(ESCAPES.get(char, char) for char in text)


def sequence_diagram(scenario: ev.ScenarioFinished, default_alias: str = "alpha") -> str:
    """Mermaid ``sequenceDiagram`` text for one finished scenario."""
    body: list[str] = []
    used: dict[str, str] = {}
    for number, step in enumerate(scenario.steps, start=1):
        if not step.skipped:
            body += _step_lines(step, number, used, default_alias)
    order = [BUYER, BUYER_PORTAL, PRODUCER_PORTAL, *sorted(k for k in used if k.startswith("P_"))]
    order += [LOTFLOW] if LOTFLOW in used else []
    names = {**FIXED_NAMES, **used}
    header = ["sequenceDiagram"] + [f"    participant {key} as {names[key]}" for key in order]
    span = f"{order[0]},{order[-1]}"
    return "\n".join(header + [line.replace("{span}", span) for line in body])


def _step_lines(step: ev.StepResult, number: int, used: dict[str, str], alias: str) -> list[str]:
    title = mermaid_text(f"{MARKS[step.outcome]} {number}. {step.title}")
    lines = [f"    Note over {{span}}: {title}"]
    if step.note:
        used[LOTFLOW] = FIXED_NAMES[LOTFLOW]
        lines.append(f"    Note over {PRODUCER_PORTAL}: {mermaid_text(step.note)}")
    for exchange in (x for x in step.exchanges if x.purpose == "call"):
        lines += _call_arrows(exchange, used, alias)
    lines += [arrow for webhook in step.webhooks for arrow in _webhook_arrows(webhook)]
    for exchange in (x for x in step.exchanges if x.purpose != "call"):
        lines += _call_arrows(exchange, used, alias)
    if step.outcome == "failed":
        lines = [f"    rect {FAILED_SHADE}", *(f"    {line}" for line in lines), "    end"]
    return lines


def _source(exchange: ev.Exchange, used: dict[str, str], alias: str) -> str:
    if exchange.purpose != "call":
        used[LOTFLOW] = FIXED_NAMES[LOTFLOW]
        return LOTFLOW
    if exchange.actor == "buyer":
        return BUYER
    if exchange.portal == "buyer":
        return PRODUCER_PORTAL  # the producer's system calling the buyer's API
    name = exchange.actor.partition(":")[2] or alias
    key = "P_" + "".join(c if c.isalnum() else "_" for c in name)
    used[key] = f"Producer operator ({name})"
    return key


def _call_arrows(exchange: ev.Exchange, used: dict[str, str], alias: str) -> list[str]:
    source = _source(exchange, used, alias)
    target = BUYER_PORTAL if exchange.portal == "buyer" else PRODUCER_PORTAL
    label = exchange.operation if exchange.purpose == "call" else f"{exchange.operation} (check)"
    if exchange.status is None:
        return [f"    {source}-x{target}: {mermaid_text(label)} (no answer)"]
    answer = "--x" if exchange.status >= 400 else "-->>"
    return [
        f"    {source}->>{target}: {mermaid_text(label)}",
        f"    {target}{answer}{source}: {exchange.status}",
    ]


def _webhook_arrows(webhook: ev.WebhookSeen) -> list[str]:
    label = mermaid_text(f"{webhook.event} (webhook, attempt {webhook.attempt})")
    if webhook.delivered:
        return [
            f"    {BUYER_PORTAL}->>{PRODUCER_PORTAL}: {label}",
            f"    {PRODUCER_PORTAL}-->>{BUYER_PORTAL}: {webhook.status}",
        ]
    answer = "no answer" if webhook.status is None else f"{webhook.status}, not delivered"
    return [
        f"    {BUYER_PORTAL}->>{PRODUCER_PORTAL}: {label}",
        f"    {PRODUCER_PORTAL}--x{BUYER_PORTAL}: {answer}",
    ]
