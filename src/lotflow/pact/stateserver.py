"""The provider-state endpoint the Pact verifier calls before each interaction.

Pact's convention: ``POST {state, params, action}``; the JSON answer holds the values that the
pact's provider-state expressions take (``${lotId}``). :func:`state_app` answers it by setting the
state up through the buyer's operator API (:mod:`lotflow.pact.states`), or, when the team gives
its own state-setup URL, by forwarding the request there and passing its values on. Either way
it adds ``apiKey``, which the pacts inject into the ``X-API-Key`` header, so the key reaches only
the requests that carry one (the "no key" interaction stays keyless). The values of the last
setup are kept in :class:`StateLog` for the message producer, which looks for the webhook about
the entity the state made. A state that cannot be set up is answered 400 (a 5xx would make the
Pact core retry it for minutes) and its reason kept in the log.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from lotflow.errors import LotflowError
from lotflow.pact.states import BuyerDriver, set_up
from lotflow.threads import in_thread

__all__ = ["STATE_PATH", "StateLog", "forwarding_setup", "operator_setup", "state_app"]

STATE_PATH = "/_lotflow/pact/state"
Setup = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass
class StateLog:
    """The values of the most recent state setup (read by the message producer), and why each
    state that could not be set up failed (the verifier itself only sees a refused setup)."""

    values: dict[str, Any] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fail(self, state: str, why: str) -> None:
        with self._lock:
            self.failed[state] = why

    def record(self, values: dict[str, Any]) -> None:
        with self._lock:
            self.values = dict(values)

    def latest(self) -> dict[str, Any]:
        with self._lock:
            return dict(self.values)


def operator_setup(buyer: BuyerDriver) -> Setup:
    """States set up through the buyer's operator API."""
    return lambda state, params: set_up(buyer, state, params)


def forwarding_setup(url: str, timeout: float = 30.0) -> Setup:
    """States set up by the team's own endpoint at ``url`` (Pact's convention). No credential
    is sent there: the operator's session belongs to the buyer alone."""

    def setup(state: str, params: dict[str, Any]) -> dict[str, Any]:
        body = {"state": state, "params": params, "action": "setup"}
        try:
            response = httpx.post(url, json=body, timeout=timeout)
        except httpx.HTTPError as exc:
            raise LotflowError(f"The state-setup URL {url} could not be reached: {exc}") from exc
        if response.status_code >= 300:
            raise LotflowError(
                f"The state-setup URL {url} answered {response.status_code} for state "
                f"{state!r}: {response.text[:300]}"
            )
        values = response.json() if response.content else {}
        return values if isinstance(values, dict) else {}

    return setup


def state_app(setup: Setup, api_key: str, log: StateLog) -> Starlette:
    """The ASGI app of the state endpoint (at :data:`STATE_PATH`)."""

    async def change(request: Request) -> JSONResponse:
        payload = await request.json()
        if payload.get("action", "setup") != "setup":
            return JSONResponse({})
        state, params = str(payload.get("state", "")), dict(payload.get("params") or {})
        try:
            values = await in_thread(setup, state, params)
        except LotflowError as exc:  # 4xx: the Pact core retries a 5xx for minutes
            log.fail(state, str(exc))
            return JSONResponse({"error": str(exc)}, status_code=400)
        log.record(values)
        return JSONResponse({**values, "apiKey": api_key})

    return Starlette(routes=[Route(STATE_PATH, change, methods=["POST"])])
