"""Building a reference portal from an environment (used by ``lotflow serve``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PORTAL_NAMES = ("buyer", "producer")


def build_portal(
    name: str, env: Mapping[str, str], *, demo: bool, faults: Sequence[str] = ()
) -> tuple[Any, Mapping[str, str]]:
    """The app of the named reference portal (with deliberate ``faults``, if named) and the
    settings generated in demo mode."""
    if name == "buyer":
        from lotflow.reference.buyer.app import create_app as buyer_app
        from lotflow.reference.buyer.settings import BuyerSettings

        buyer = BuyerSettings.from_env(env, demo=demo)
        return buyer_app(buyer, faults=faults), buyer.generated
    from lotflow.reference.faults import plan_faults

    plan_faults("producer", faults)  # the producer has none yet: a named one is refused
    from lotflow.reference.producer.app import create_app as producer_app
    from lotflow.reference.producer.settings import ProducerSettings

    producer = ProducerSettings.from_env(env, demo=demo)
    return producer_app(producer), producer.generated
