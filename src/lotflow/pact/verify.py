"""Verify pact files against a buyer portal: the reference one, or any live one at a URL.

    report = verify_buyer(target, [http_pact, message_pact])
    report.passed, report.pacts[0].failed()

For each pact the Pact verifier (pact-python's ``Verifier``, the Rust core: nothing is
downloaded) replays the interactions against ``target.base_url``. Before each one it calls
lotflow's provider-state endpoint (:mod:`lotflow.pact.stateserver`, served on a free loopback
port), which sets the state up through the buyer's operator API, or through the team's own
state-setup URL. HTTP pacts are replayed over HTTP; message pacts take each message from the
webhooks the buyer really sent (:mod:`lotflow.pact.messages`), so ``target.inbox`` must receive
the buyer's webhooks. The result is data (:mod:`lotflow.pact.results`); nothing is printed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pact import Verifier

from lotflow.credentials import BuyerCredentials
from lotflow.errors import ConfigError
from lotflow.pact.inbox import WebhookInbox
from lotflow.pact.messages import WebhookProducer, message_events
from lotflow.pact.names import read_pact
from lotflow.pact.results import InteractionResult, PactResult, VerificationReport
from lotflow.pact.states import BuyerDriver
from lotflow.pact.stateserver import (
    STATE_PATH,
    StateLog,
    forwarding_setup,
    operator_setup,
    state_app,
)
from lotflow.serving import ServerThread

__all__ = ["BuyerTarget", "is_message_pact", "state_endpoint", "verify_buyer"]


@dataclass
class BuyerTarget:
    """The buyer portal to verify and how to reach its provider states."""

    base_url: str
    credentials: BuyerCredentials
    state_url: str | None = None  # the team's own state-setup endpoint, else the operator API
    inbox: WebhookInbox | None = None  # where the buyer's webhooks arrive (message pacts)
    message_timeout: float = 10.0
    request_timeout: float = 30.0
    state_log: StateLog = field(default_factory=StateLog)


def is_message_pact(path: Path) -> bool:
    """Whether the pact at ``path`` holds message interactions."""
    data = read_pact(path)
    return any(i.get("type", "").endswith("Messages") for i in data.get("interactions", []))


def verify_buyer(target: BuyerTarget, pacts: Sequence[Path]) -> VerificationReport:
    """Verify every pact in ``pacts`` against ``target`` (see the module docstring)."""
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")  # the Pact core reports usage otherwise
    if target.inbox is None and any(is_message_pact(p) for p in pacts):
        raise ConfigError(
            "Message pacts need the buyer's webhooks: give a receiver (lotflow pact verify "
            "--receive-webhooks HOST:PORT) and point the buyer's PRODUCER_DASHBOARD_WEBHOOK_URL "
            "at it, or verify the HTTP pact alone."
        )
    with state_endpoint(target) as state_url:
        results = tuple(_verify_one(target, pact, state_url) for pact in pacts)
    return VerificationReport(target.base_url, results)


@contextmanager
def state_endpoint(target: BuyerTarget) -> Iterator[str]:
    """Serve the provider-state endpoint for ``target`` on a free loopback port; its URL."""
    credentials = target.credentials
    driver = None
    if target.state_url:
        setup = forwarding_setup(target.state_url)
    else:
        driver = BuyerDriver.connect(
            target.base_url, credentials.require_key(), credentials.operator_headers()
        )
        setup = operator_setup(driver)
    app = state_app(setup, credentials.require_key(), target.state_log)
    try:
        with ServerThread(app) as server:
            yield server.url + STATE_PATH
    finally:
        if driver is not None:
            driver.close()


def _verify_one(target: BuyerTarget, pact: Path, state_url: str) -> PactResult:
    data = read_pact(pact)
    messages = is_message_pact(pact)
    # Messages come from pact-python's relay on this machine; HTTP goes to the buyer's host.
    host = "localhost" if messages else urlsplit(target.base_url).hostname or "localhost"
    verifier = Verifier(data["provider"]["name"], host=host)
    verifier.add_source(pact).state_handler(state_url, body=True)
    verifier.set_request_timeout(int(target.request_timeout * 1000))
    verifier.set_coloured_output(enabled=False)
    notes: dict[str, str] = {}
    if messages:
        assert target.inbox is not None  # checked by verify_buyer
        events = message_events(pact)
        producer = WebhookProducer(events, target.inbox, target.state_log, target.message_timeout)
        verifier.message_handler(producer)
        notes = producer.failures
    else:
        verifier.add_transport(url=target.base_url)
    # The Pact core raises RuntimeError when an interaction failed: the results say which.
    with _silenced(), suppress(RuntimeError):
        verifier.verify()
    output = str(verifier.output(strip_ansi=True))
    notes |= _state_failures(data, target.state_log)
    return _result(pact, data, verifier.results, output, notes)


def _state_failures(data: dict[str, Any], log: StateLog) -> dict[str, str]:
    """Description → why its provider state could not be set up, for every such interaction."""
    found = {}
    for interaction in data.get("interactions", []):
        for state in interaction.get("providerStates") or []:
            why = log.failed.get(state.get("name", ""))
            if why:
                found[interaction["description"]] = (
                    f"Provider state {state['name']!r} could not be set up: {why}"
                )
    return found


@contextmanager
def _silenced() -> Iterator[None]:
    """The Pact core prints its own report on the process's stdout and pact-python's message
    relay logs each request on stderr; lotflow reports from the results instead (the core's
    text stays in ``PactResult.output``)."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    sink = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(sink, 1)
        os.dup2(sink, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, sink):
            os.close(fd)


def _result(
    pact: Path, data: dict[str, Any], raw: dict[str, Any], output: str, notes: dict[str, str]
) -> PactResult:
    """The verifier's results as data; ``notes`` are lotflow's own words on an interaction's
    failure (put before the core's mismatches)."""
    errors = list(raw.get("errors") or [])
    interactions = []
    for item in raw.get("interactionResults") or []:
        description = item["description"]
        mine = [e for e in errors if _names(e, description)]
        errors = [e for e in errors if e not in mine]
        noted = (notes[description],) if description in notes else ()
        mismatches = noted + tuple(m for e in mine for m in _describe(e.get("mismatch")))
        passed = item.get("result") == "OK" and not mine
        states = tuple(item.get("providerStates") or ())
        interactions.append(InteractionResult(description, states, passed, mismatches))
    stray = tuple(
        f"{e.get('interaction')}: {'; '.join(_describe(e.get('mismatch')))}" for e in errors
    )
    missing = len(data.get("interactions", [])) - len(interactions)
    unverified = (f"{missing} interaction(s) were not verified",) if missing > 0 else ()
    return PactResult(
        pact.name,
        data["consumer"]["name"],
        data["provider"]["name"],
        tuple(interactions),
        stray + unverified,
        output,
    )


def _names(error: dict[str, Any], description: str) -> bool:
    """Whether a verifier error is about the interaction ``description`` (the core names it as
    "Verifying a pact between ... Given <state> - <description>")."""
    named = str(error.get("interaction", ""))
    return named == description or named.endswith(f" - {description}")


def _describe(mismatch: Any) -> list[str]:
    if not isinstance(mismatch, dict):
        return [json.dumps(mismatch)]
    listed = mismatch.get("mismatches")
    if isinstance(listed, list) and listed:
        return [_one(m) for m in listed]
    return [str(mismatch.get("message") or mismatch.get("type") or json.dumps(mismatch))]


def _one(mismatch: Any) -> str:
    if not isinstance(mismatch, dict):
        return str(mismatch)
    where = mismatch.get("path") or mismatch.get("key") or ""
    text = str(mismatch.get("mismatch") or mismatch.get("description") or json.dumps(mismatch))
    return f"{where}: {text}" if where else text
