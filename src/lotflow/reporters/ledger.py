"""Each party's view of the lot, the bid and the contract: step by step as the steps' own calls
and checks last answered (:class:`Ledger`), and at the end as each portal showed it when read
again once the scenario ended (:func:`end_states`, from ``ScenarioFinished.final``).

During the steps, a response whose body holds ``lot``, ``bid`` or ``contract`` with a
``status`` says what that party showed at that moment; the latest answer about each entity (by
its ``_id``) wins. That is only what a step happened to read: an entity nobody re-read keeps the
status it had then, so the end of a story is told from the final reads alone, and a read that
failed is told as ``unknown`` with its reason, never as a stale status. Several entities of one
kind (two producers' bids) are told in the order first seen, ``accepted / rejected``. The
contract's terms are those of the contract read at the end (the buyer's first, it is the one
that made it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lotflow.engine import events as ev
from lotflow.engine.finals import ENTITIES

__all__ = [
    "ENTITIES",
    "PARTIES",
    "Ledger",
    "PartyStates",
    "contract_terms",
    "end_contract",
    "end_states",
    "end_words",
]

PARTIES = ("buyer", "producer")


@dataclass(frozen=True)
class PartyStates:
    """party → entity → status, as last seen (missing: not seen yet)."""

    states: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def status(self, party: str, entity: str) -> str:
        """The status ``party`` showed for ``entity``, or "—"."""
        return self.states.get(party, {}).get(entity, "—")

    def line(self, party: str) -> str:
        """``lot sold, bid accepted, contract draft`` (only what was seen)."""
        seen = self.states.get(party, {})
        return ", ".join(f"{e} {seen[e]}" for e in ENTITIES if e in seen) or "nothing seen"

    @property
    def empty(self) -> bool:
        """Nothing was seen from any party."""
        return not any(self.states.values())


class Ledger:
    """Follows one scenario's steps; :meth:`after` gives the states after each step."""

    def __init__(self) -> None:
        self._states: dict[str, dict[str, dict[str, str]]] = {party: {} for party in PARTIES}

    def record(self, step: ev.StepResult) -> PartyStates:
        """Take one step's answers; the states after it."""
        for exchange in step.exchanges:
            if exchange.response is None or not isinstance(exchange.response.body, dict):
                continue
            for entity in ENTITIES:
                found = exchange.response.body.get(entity)
                if isinstance(found, dict) and isinstance(found.get("status"), str):
                    seen = self._states.setdefault(exchange.portal, {}).setdefault(entity, {})
                    seen[str(found.get("_id", ""))] = found["status"]
        return self.current()

    def current(self) -> PartyStates:
        """The states as last seen."""
        return PartyStates(
            {
                party: {entity: " / ".join(ids.values()) for entity, ids in kinds.items()}
                for party, kinds in self._states.items()
            }
        )

    def after(self, steps: Iterable[ev.StepResult]) -> list[PartyStates]:
        """The states after each of ``steps``, in order."""
        return [self.record(step) for step in steps]


def end_words(read: ev.FinalRead) -> str:
    """``sold``, or ``unknown (getLot answered 404: ...)`` when the final read did not say."""
    return read.status if read.status is not None else f"unknown ({read.reason})"


def end_states(final: Iterable[ev.FinalRead]) -> PartyStates:
    """What each portal showed of the scenario's entities when read again at its end."""
    said: dict[str, dict[str, list[str]]] = {}
    for read in final:
        said.setdefault(read.portal, {}).setdefault(read.entity, []).append(end_words(read))
    return PartyStates(
        {
            party: {entity: " / ".join(words) for entity, words in kinds.items()}
            for party, kinds in said.items()
        }
    )


def end_contract(final: Iterable[ev.FinalRead]) -> dict[str, Any] | None:
    """The contract as read at the end (the buyer's when both portals showed one)."""
    shown = {
        read.portal: read.shown
        for read in final
        if read.entity == "contract" and isinstance(read.shown, dict)
    }
    return shown.get("buyer") or shown.get("producer")


def contract_terms(contract: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The contract's terms as (label, words) pairs, only those it states."""
    volume = contract.get("volume") or {}
    pricing = contract.get("pricing") or {}
    unit = volume.get("unit") or "unit"
    currency = pricing.get("currency") or ""
    rows = [
        ("contract", str(contract.get("contractNumber") or contract.get("_id") or "")),
        ("status", str(contract.get("status") or "")),
        ("volume", _amount(volume.get("amount"), unit)),
        ("price", _price(pricing.get("pricePerUnit"), currency, unit)),
        ("total", _amount(pricing.get("price"), currency, before=True)),
        ("payment", str(pricing.get("paymentTerms") or "")),
        ("delivery", str(contract.get("deliveryDate") or "")[:10]),
        ("delivered at", str(contract.get("deliveryLocation") or "")),
        ("terms", str(contract.get("terms") or "")),
    ]
    return [(label, words) for label, words in rows if words]


def _amount(value: Any, unit: str, *, before: bool = False) -> str:
    if not isinstance(value, int | float):
        return ""
    number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return f"{unit} {number}".strip() if before else f"{number} {unit}"


def _price(value: Any, currency: str, unit: str) -> str:
    if not isinstance(value, int | float):
        return ""
    return f"{currency} {value:,.2f} per {unit.rstrip('s')}".strip()
