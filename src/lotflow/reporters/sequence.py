"""A scenario's calls and webhooks as a sequence diagram model, which ``mermaid`` writes as
Mermaid text and ``svg`` draws as an inline SVG picture.

Participants: the buyer operator, the Buyer Portal, the Producer Portal and one producer
operator per alias that acted. Every call is an arrow from who made it to the portal that
answered, labelled with what it does in the spec's words (its ``summary``), and the answer's
status; a refusal the scenario expected (a passing step's 4xx) is drawn as expected, not as a
failure. Every webhook is an arrow from the Buyer Portal to the Producer Portal, labelled with
the event's words and what a network fault did to it: one dropped or held back ends in a cross
(it never arrived), one whose answer was lost has its answer end in a cross, a held-back copy
arriving late says so. What lotflow itself read to check the step is one compact note per step,
not arrows among the business messages; the reads made once the scenario ended
(``ScenarioFinished.final``) are not drawn at all: they are the story's end-state table.
Each step is a block headed by a note; a failed step's block is shaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from lotflow.engine import events as ev
from lotflow.reporters.ledger import ENTITIES
from lotflow.reporters.vocabulary import Vocabulary, spec_vocabulary
from lotflow.reporters.wording import MARKS, NETWORK_WORDS

__all__ = ["Arrow", "Block", "Diagram", "Note", "build"]

BUYER, BUYER_PORTAL, PRODUCER_PORTAL = "B", "BP", "PP"
FIXED_NAMES = {
    BUYER: "Buyer operator",
    BUYER_PORTAL: "Buyer Portal",
    PRODUCER_PORTAL: "Producer Portal",
}
CHECK_FAILURES = ("state", "agree")
NOT_FORWARDED = ("dropped", "held")


@dataclass(frozen=True)
class Arrow:
    """A message: a request (solid) or an answer (dashed); ``lost`` ends it in a cross;
    ``expected`` marks a refusal the scenario asked for (drawn as expected, not as a failure)."""

    source: str
    target: str
    label: str
    answer: bool = False
    lost: bool = False
    expected: bool = False


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


def build(
    scenario: ev.ScenarioFinished, default_alias: str = "alpha", words: Vocabulary | None = None
) -> Diagram:
    """The diagram of one finished scenario (skipped steps did nothing and are left out)."""
    used: dict[str, str] = {}
    said = words or spec_vocabulary()
    blocks = tuple(
        _block(step, number, used, default_alias, said)
        for number, step in enumerate(scenario.steps, start=1)
        if not step.skipped
    )
    order = [BUYER, BUYER_PORTAL, PRODUCER_PORTAL, *sorted(k for k in used if k.startswith("P_"))]
    names = {**FIXED_NAMES, **used}
    return Diagram(tuple((key, names[key]) for key in order), blocks)


def _block(
    step: ev.StepResult, number: int, used: dict[str, str], alias: str, words: Vocabulary
) -> Block:
    heading = Note(f"{MARKS[step.outcome]} {number}. {step.title}")
    items: list[Arrow | Note] = []
    if step.note:
        items.append(Note(step.note, over=PRODUCER_PORTAL))
    for exchange in (x for x in step.exchanges if x.purpose == "call"):
        items += _call_arrows(exchange, used, alias, words, refusal_expected=step.passed)
    items += [arrow for webhook in step.webhooks for arrow in _webhook_arrows(webhook, words)]
    checks = _checks_note(step)
    if checks is not None:
        items.append(checks)
    return Block(heading, tuple(items), step.outcome == "failed")


def _checks_note(step: ev.StepResult) -> Note | None:
    """What lotflow read on each portal to check the step, in one line."""
    reads = [x for x in step.exchanges if x.purpose != "call"]
    if not reads:
        return None
    seen: list[str] = []
    for read in reads:
        text = f"{read.portal} {_shown(read)}"
        if text not in seen:
            seen.append(text)
    held = not any(f.check in CHECK_FAILURES for f in step.failures)
    return Note(f"{'✓' if held else '✗'} lotflow checked: {' · '.join(seen)}")


def _shown(read: ev.Exchange) -> str:
    body = read.response.body if read.response is not None else None
    if isinstance(body, dict):
        for entity in ENTITIES:
            found = body.get(entity)
            if isinstance(found, dict) and isinstance(found.get("status"), str):
                return f"{entity} {found['status']}"
    return "no answer" if read.status is None else f"answered {read.status}"


def _source(exchange: ev.Exchange, used: dict[str, str], alias: str) -> str:
    if exchange.actor == "buyer":
        return BUYER
    if exchange.portal == "buyer":
        return PRODUCER_PORTAL  # the producer's system calling the buyer's API
    name = exchange.actor.partition(":")[2] or alias
    key = "P_" + "".join(c if c.isalnum() else "_" for c in name)
    used[key] = f"Producer operator ({name})"
    return key


def _call_arrows(
    exchange: ev.Exchange,
    used: dict[str, str],
    alias: str,
    words: Vocabulary,
    *,
    refusal_expected: bool,
) -> list[Arrow]:
    source = _source(exchange, used, alias)
    target = BUYER_PORTAL if exchange.portal == "buyer" else PRODUCER_PORTAL
    label = words.operation(exchange.operation)
    if exchange.status is None:
        return [Arrow(source, target, f"{label} (no answer)", lost=True)]
    refused = exchange.status >= 400
    if refused and refusal_expected:
        answer = Arrow(target, source, f"{exchange.status}, refused as expected", True, False, True)
    else:
        answer = Arrow(target, source, str(exchange.status), answer=True, lost=refused)
    return [Arrow(source, target, label), answer]


def _webhook_arrows(webhook: ev.WebhookSeen, words: Vocabulary) -> list[Arrow]:
    again = ", again" if webhook.attempt > 1 else ""
    network = f", {NETWORK_WORDS.get(webhook.network, webhook.network)}" if webhook.network else ""
    label = f"{words.event(webhook.event)} (webhook{again}{network})"
    if webhook.network in NOT_FORWARDED:  # it never reached the producer: a lost arrow
        return [Arrow(BUYER_PORTAL, PRODUCER_PORTAL, label, lost=True)]
    sent = Arrow(BUYER_PORTAL, PRODUCER_PORTAL, label)
    if webhook.network == "answer lost":
        said = f"{webhook.status}, lost on the way back"
        return [sent, Arrow(PRODUCER_PORTAL, BUYER_PORTAL, said, answer=True, lost=True)]
    if webhook.delivered:
        return [sent, Arrow(PRODUCER_PORTAL, BUYER_PORTAL, str(webhook.status), answer=True)]
    answer = "no answer" if webhook.status is None else f"{webhook.status}, not delivered"
    return [sent, Arrow(PRODUCER_PORTAL, BUYER_PORTAL, answer, answer=True, lost=True)]
