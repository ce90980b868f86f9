"""Deliberate faults for the reference portals: the mistakes real portal teams make, to prove
that each of lotflow's checks fails when it should.

A fault is applied when the app is built (``create_app(settings, faults=["open-producer-api"])``,
``lotflow serve buyer --fault open-producer-api``) and is off unless named. Each one wraps the
portal rather than editing it: a replaced handler, a replaced authenticator, a replaced state
machine, or an ASGI middleware in front of the app. The catalogue (:data:`CATALOGUE`) documents
what each fault does as the mistake a team would make; ``docs/verify.md`` lists which check
catches it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from lotflow.errors import ConfigError
from lotflow.http import Handler, SchemeAuthenticator

__all__ = ["CATALOGUE", "Fault", "FaultPlan", "fault_names", "plan_faults"]

HandlerWrap = Callable[[dict[str, Handler]], dict[str, Handler]]
AuthWrap = Callable[[dict[str, SchemeAuthenticator]], dict[str, SchemeAuthenticator]]
AppWrap = Callable[[FastAPI], None]
TransportWrap = Callable[[httpx.AsyncBaseTransport, Sequence[str]], httpx.AsyncBaseTransport]
"""Wraps the buyer's webhook transport, given the secrets that sign webhooks (to sign again)."""
BuyerTransportWrap = Callable[[httpx.BaseTransport], httpx.BaseTransport]
"""Wraps the transport the producer calls the buyer through (the sync ``SpecClient``'s)."""


@dataclass(frozen=True)
class Fault:
    """One deliberate mistake: its name, the portal it applies to, what it does (as the team's
    mistake), and the wrappers that make it."""

    name: str
    portal: str
    mistake: str
    handlers: HandlerWrap | None = None
    authenticators: AuthWrap | None = None
    app: AppWrap | None = None
    transport: TransportWrap | None = None
    buyer_transport: BuyerTransportWrap | None = None


@dataclass(frozen=True)
class FaultPlan:
    """The faults an app is built with, applied in the order named."""

    faults: tuple[Fault, ...] = ()

    def wrap_handlers(self, handlers: Mapping[str, Handler]) -> dict[str, Handler]:
        wrapped = dict(handlers)
        for fault in self.faults:
            wrapped = fault.handlers(wrapped) if fault.handlers else wrapped
        return wrapped

    def wrap_authenticators(
        self, authenticators: Mapping[str, SchemeAuthenticator]
    ) -> dict[str, SchemeAuthenticator]:
        wrapped = dict(authenticators)
        for fault in self.faults:
            wrapped = fault.authenticators(wrapped) if fault.authenticators else wrapped
        return wrapped

    def wrap_transport(
        self, transport: httpx.AsyncBaseTransport | None, secrets: Sequence[str]
    ) -> httpx.AsyncBaseTransport | None:
        """The webhook transport with the sender faults around it (as it is without any)."""
        wraps = [fault.transport for fault in self.faults if fault.transport is not None]
        if not wraps:
            return transport
        wrapped = transport or httpx.AsyncHTTPTransport()
        for wrap in wraps:
            wrapped = wrap(wrapped, secrets)
        return wrapped

    def wrap_buyer_transport(
        self, transport: httpx.BaseTransport | None
    ) -> httpx.BaseTransport | None:
        """The producer's transport to the buyer with the client faults around it."""
        wraps = [fault.buyer_transport for fault in self.faults if fault.buyer_transport]
        if not wraps:
            return transport
        wrapped = transport or httpx.HTTPTransport()
        for wrap in wraps:
            wrapped = wrap(wrapped)
        return wrapped

    def wrap_app(self, app: FastAPI) -> FastAPI:
        for fault in self.faults:
            if fault.app is not None:
                fault.app(app)
        app.state.faults = tuple(fault.name for fault in self.faults)
        return app


def _catalogue() -> dict[str, Fault]:
    from lotflow.reference.faults.buyer import BUYER_FAULTS
    from lotflow.reference.faults.client import CLIENT_FAULTS
    from lotflow.reference.faults.producer import PRODUCER_FAULTS
    from lotflow.reference.faults.sender import SENDER_FAULTS

    return {
        fault.name: fault
        for fault in (*BUYER_FAULTS, *SENDER_FAULTS, *PRODUCER_FAULTS, *CLIENT_FAULTS)
    }


class _Catalogue(Mapping[str, Fault]):
    """Every fault by name (built on first use: importing this package does nothing)."""

    def __getitem__(self, name: str) -> Fault:
        return _catalogue()[name]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(_catalogue())

    def __len__(self) -> int:
        return len(_catalogue())


CATALOGUE: Mapping[str, Fault] = _Catalogue()


def fault_names(portal: str) -> list[str]:
    """The names of ``portal``'s faults, in catalogue order."""
    return [name for name, fault in CATALOGUE.items() if fault.portal == portal]


def plan_faults(portal: str, names: Sequence[str]) -> FaultPlan:
    """The plan of the named faults of ``portal``; a ``ConfigError`` for an unknown name."""
    known = fault_names(portal)
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=2)
            hint = f" Did you mean {' or '.join(close)}?" if close else ""
            raise ConfigError(f"No {portal} fault named {name!r}.{hint} Known: {', '.join(known)}.")
    return FaultPlan(tuple(CATALOGUE[name] for name in names))
