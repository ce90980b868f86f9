"""A scenario's calls and webhooks as a sequence diagram model, which ``mermaid`` writes as
Mermaid text and ``svg`` draws as an inline SVG picture.

Participants: the buyer operator, the Buyer Portal, the Producer Portal, one producer operator
per alias that acted, and lotflow itself when it checked state or controlled the tap. Every call
is an arrow from who made it to the portal that answered, with the status; every webhook is an
arrow from the Buyer Portal to the Producer Portal with its event, attempt and answer. Each step
is a block headed by a note; a failed step's block is shaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from lotflow.engine import events as ev
from lotflow.reporters.wording import MARKS

__all__ = ["Arrow", "Block", "Diagram", "Note", "build"]

BUYER, BUYER_PORTAL, PRODUCER_PORTAL, LOTFLOW = "B", "BP", "PP", "L"
FIXED_NAMES = {
    BUYER: "Buyer operator",
    BUYER_PORTAL: "Buyer Portal",
    PRODUCER_PORTAL: "Producer Portal",
    LOTFLOW: "lotflow",
}


@dataclass(frozen=True)
class Arrow:
    """A message: a request (solid) or an answer (dashed); ``lost`` ends it in a cross."""

    source: str
    target: str
    label: str
    answer: bool = False
    lost: bool = False


@dataclass(frozen=True)
class Note:
    """Text over one participant, or over all of them (``over`` is None)."""

    text: str
    over: str | None = None


@dataclass(frozen=True)
class Block:
    """One step: its heading note and what happened, shaded when the step failed."""

    heading: Note
    items: tuple[Arrow | Note, ...]
    failed: bool


@dataclass(frozen=True)
class Diagram:
    """Participants in order (key, display name) and the steps' blocks."""

    participants: tuple[tuple[str, str], ...]
    blocks: tuple[Block, ...]


def build(scenario: ev.ScenarioFinished, default_alias: str = "alpha") -> Diagram:
    """The diagram of one finished scenario (skipped steps did nothing and are left out)."""
    used: dict[str, str] = {}
    blocks = tuple(
        _block(step, number, used, default_alias)
        for number, step in enumerate(scenario.steps, start=1)
        if not step.skipped
    )
    order = [BUYER, BUYER_PORTAL, PRODUCER_PORTAL, *sorted(k for k in used if k.startswith("P_"))]
    order += [LOTFLOW] if LOTFLOW in used else []
    names = {**FIXED_NAMES, **used}
    return Diagram(tuple((key, names[key]) for key in order), blocks)


def _block(step: ev.StepResult, number: int, used: dict[str, str], alias: str) -> Block:
    heading = Note(f"{MARKS[step.outcome]} {number}. {step.title}")
    items: list[Arrow | Note] = []
    if step.note:
        used[LOTFLOW] = FIXED_NAMES[LOTFLOW]
        items.append(Note(step.note, over=PRODUCER_PORTAL))
    for exchange in (x for x in step.exchanges if x.purpose == "call"):
        items += _call_arrows(exchange, used, alias)
    items += [arrow for webhook in step.webhooks for arrow in _webhook_arrows(webhook)]
    for exchange in (x for x in step.exchanges if x.purpose != "call"):
        items += _call_arrows(exchange, used, alias)
    return Block(heading, tuple(items), step.outcome == "failed")


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


def _call_arrows(exchange: ev.Exchange, used: dict[str, str], alias: str) -> list[Arrow]:
    source = _source(exchange, used, alias)
    target = BUYER_PORTAL if exchange.portal == "buyer" else PRODUCER_PORTAL
    label = exchange.operation if exchange.purpose == "call" else f"{exchange.operation} (check)"
    if exchange.status is None:
        return [Arrow(source, target, f"{label} (no answer)", lost=True)]
    return [
        Arrow(source, target, label),
        Arrow(target, source, str(exchange.status), answer=True, lost=exchange.status >= 400),
    ]


def _webhook_arrows(webhook: ev.WebhookSeen) -> list[Arrow]:
    label = f"{webhook.event} (webhook, attempt {webhook.attempt})"
    sent = Arrow(BUYER_PORTAL, PRODUCER_PORTAL, label)
    if webhook.delivered:
        return [sent, Arrow(PRODUCER_PORTAL, BUYER_PORTAL, str(webhook.status), answer=True)]
    answer = "no answer" if webhook.status is None else f"{webhook.status}, not delivered"
    return [sent, Arrow(PRODUCER_PORTAL, BUYER_PORTAL, answer, answer=True, lost=True)]
