"""The control surface under ``/_lotflow/``: commands that act, and what was seen.

Common to both simulators: ``GET /_lotflow`` (what the simulator is), ``GET
/_lotflow/exchanges``, ``/_lotflow/webhooks``, ``/_lotflow/findings``, ``/_lotflow/record``
(HAR 1.2), ``PUT /_lotflow/faults`` (a fault plan, YAML or JSON; refused with a 422 problem that
names each error), ``PUT /_lotflow/outage`` (``{"down": true}``) and ``POST /_lotflow/reset``.
Each simulator adds its actions (see ``buyer.py`` and ``producer.py``). Every request needs
``Authorization: Bearer <control token>``. :class:`ControlClient` is the Python side.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
from lotflow.simulators.faults import FaultPlanError, parse_fault_plan
from lotflow.simulators.front import CONTROL_PREFIX, ASGIApp
from lotflow.simulators.state import SimulationState
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lotflow.errors import LotflowError
from lotflow.openapi import Operation
from lotflow.problems import Problem

__all__ = ["ActionError", "ControlClient", "InProcessCaller", "control_app"]

Action = Callable[[Request], Awaitable[Response]]


class ActionError(LotflowError):
    """A control command the simulator (or the portal behind it) refused."""

    def __init__(self, status: int, body: Any) -> None:
        detail = body.get("detail") or body.get("title") if isinstance(body, dict) else body
        super().__init__(f"the simulator answered {status}: {detail}")
        self.status, self.body = status, body


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    """An RFC 9457 answer."""
    body = Problem(status, title, detail, code="control_error", extra=extra).to_dict()
    return JSONResponse(body, status, media_type="application/problem+json")


def control_app(
    state: SimulationState,
    token: str,
    actions: Mapping[tuple[str, str], Action],
    describe: Callable[[], dict[str, Any]],
) -> Starlette:
    """The Starlette app of the control surface: the common commands plus ``actions``."""
    seen = _SeenCommands(state, describe)
    common: dict[tuple[str, str], Action] = {
        ("GET", ""): seen.about,
        ("GET", "/exchanges"): seen.exchanges,
        ("GET", "/webhooks"): seen.webhooks,
        ("GET", "/findings"): seen.findings,
        ("GET", "/record"): seen.record,
        ("PUT", "/faults"): seen.faults,
        ("PUT", "/outage"): seen.outage,
        ("POST", "/reset"): seen.reset,
    }
    routes = [
        Route(CONTROL_PREFIX + path, _guarded(token, action), methods=[method])
        for (method, path), action in {**common, **actions}.items()
    ]
    return Starlette(routes=routes)


class _SeenCommands:
    """The commands both simulators answer: what was seen, the plan, the outage, reset."""

    def __init__(self, state: SimulationState, describe: Callable[[], dict[str, Any]]) -> None:
        self.state, self.describe = state, describe

    async def about(self, _request: Request) -> Response:
        return JSONResponse(self.describe())

    def _entries(self) -> list[dict[str, Any]]:
        return list(self.state.recording.to_har()["log"]["entries"])

    async def exchanges(self, _request: Request) -> Response:
        shown = [
            e["_lotflow"] | {"request": e["request"], "response": e["response"]}
            for e in self._entries()
        ]
        return JSONResponse({"exchanges": shown})

    async def webhooks(self, _request: Request) -> Response:
        hooks = [e for e in self._entries() if e["_lotflow"]["kind"] == "webhook"]
        return JSONResponse(
            {"webhooks": [e["_lotflow"] | {"status": e["response"]["status"]} for e in hooks]}
        )

    async def findings(self, _request: Request) -> Response:
        return JSONResponse({"findings": [f.to_dict() for f in self.state.findings.all()]})

    async def record(self, _request: Request) -> Response:
        return JSONResponse(self.state.recording.to_har())

    async def faults(self, request: Request) -> Response:
        text = (await request.body()).decode("utf-8", "replace")
        try:
            plan = parse_fault_plan(text, "fault plan")
        except FaultPlanError as exc:
            return problem(422, "The fault plan is not valid", str(exc))
        self.state.use_plan(plan)
        return JSONResponse({"plan": plan.to_dict()})

    async def outage(self, request: Request) -> Response:
        body = await _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("down"), bool):
            return problem(422, "Bad outage command", 'expected {"down": true} or {"down": false}')
        self.state.down = body["down"]
        return JSONResponse({"down": self.state.down})

    async def reset(self, _request: Request) -> Response:
        self.state.reset()
        return JSONResponse({"reset": True})


def _guarded(token: str, action: Action) -> Action:
    expected = f"Bearer {token}".encode()

    async def guarded(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return problem(
                401,
                "Unauthorized",
                "send Authorization: Bearer <the control token the simulator printed>",
            )
        return await action(request)

    return guarded


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return None


async def json_body(request: Request) -> Any:
    """The request's JSON body (``{}`` when empty, None when not JSON)."""
    return await _json_body(request)


class InProcessCaller:
    """Calls operations of the reference portal behind a simulator, in-process, as an operator."""

    def __init__(self, app: ASGIApp, operations: Mapping[str, Operation], token: str) -> None:
        self._operations = operations
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
            base_url="http://simulated-portal",
            headers={"authorization": f"Bearer {token}"},
        )

    async def call(
        self,
        operation_id: str,
        path: Mapping[str, str] | None = None,
        body: Any = None,
        query: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """The portal's answer to one operation."""
        op = self._operations[operation_id]
        url = op.path.format(**(path or {}))
        return await self._client.request(op.method.upper(), url, json=body, params=query)

    async def answer(self, operation_id: str, **kwargs: Any) -> Response:
        """:meth:`call`, passed through as the control surface's answer."""
        reply = await self.call(operation_id, **kwargs)
        media = reply.headers.get("content-type", "application/json")
        return Response(reply.content, reply.status_code, media_type=media)

    async def aclose(self) -> None:
        await self._client.aclose()


class ControlClient:
    """The Python side of a simulator's control surface (also for a simulator run elsewhere)."""

    def __init__(self, url: str, token: str, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(
            timeout=timeout,
            headers={"authorization": f"Bearer {token}"},
        )

    def request(self, method: str, path: str, body: Any = None, *, text: str | None = None) -> Any:
        """One command; its JSON answer, or :class:`ActionError` for a refusal."""
        url = self.url + CONTROL_PREFIX + path
        if text is not None:
            reply = self._client.request(method, url, content=text.encode())
        else:
            reply = self._client.request(method, url, json=body)
        try:
            data = reply.json()
        except ValueError:
            data = reply.text
        if reply.status_code >= 400:
            raise ActionError(reply.status_code, data)
        return data

    def findings(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/findings")["findings"])

    def record(self) -> dict[str, Any]:
        return dict(self.request("GET", "/record"))

    def use_faults(self, plan_yaml: str) -> dict[str, Any]:
        return dict(self.request("PUT", "/faults", text=plan_yaml))

    def set_down(self, down: bool) -> None:
        self.request("PUT", "/outage", {"down": down})

    def reset(self) -> None:
        self.request("POST", "/reset")

    def close(self) -> None:
        self._client.close()
