"""The fixture portal as an app: handlers and authenticators for ``fixtures/portal.yaml``, and a
helper that sends one request to an app in-process."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.requests import Request

from lotflow.http import (
    Authenticator,
    Handler,
    OperationRequest,
    Reply,
    SchemeAuthenticator,
    build_app,
)
from lotflow.problems import Problem

ITEM_ID = "6750a1c2e4b0f1a2b3c4d5e6"
MISSING_ID = "0" * 24
API_KEY = "key-123"
TOKEN = "token-456"


def item(item_id: str = ITEM_ID, name: str = "jet fuel") -> dict[str, Any]:
    return {"_id": item_id, "name": name, "volume": {"amount": 5, "unit": "gallons"}}


def list_items(req: OperationRequest) -> Reply:
    return Reply(200, {"items": [], "count": 0, "query": req.query})


def create_item(req: OperationRequest) -> Reply:
    return Reply(201, {"item": {"_id": ITEM_ID, **req.body}})


def get_special_item(_req: OperationRequest) -> Reply:
    return Reply(200, {"item": item(name="special")})


def get_item(req: OperationRequest) -> Reply:
    if req.path_params["itemId"] == MISSING_ID:
        raise Problem.not_found("item", MISSING_ID)
    return Reply(200, {"item": item(req.path_params["itemId"]), "principal": req.principal})


def delete_item(_req: OperationRequest) -> Reply:
    return Reply(204)


async def ping(_req: OperationRequest) -> Reply:
    return Reply(200, {"pong": True})


HANDLERS: dict[str, Handler] = {
    "listItems": list_items,
    "createItem": create_item,
    "getSpecialItem": get_special_item,
    "getItem": get_item,
    "deleteItem": delete_item,
    "ping": ping,
}


def api_key(request: Request, _raw: bytes) -> str | None:
    return "key-user" if request.headers.get("x-api-key") == API_KEY else None


def bearer(request: Request, _raw: bytes) -> str | None:
    return "token-user" if request.headers.get("authorization") == f"Bearer {TOKEN}" else None


AUTHENTICATORS: dict[str, Authenticator] = {"apiKey": api_key, "bearer": bearer}
KEY_HEADERS = {"X-API-Key": API_KEY}
BOTH_HEADERS = {"X-API-Key": API_KEY, "Authorization": f"Bearer {TOKEN}"}


def portal_app(
    spec: dict[str, Any],
    handlers: Mapping[str, Handler] | None = None,
    authenticators: Mapping[str, SchemeAuthenticator] | None = None,
    **options: Any,
) -> FastAPI:
    """The fixture portal, with some handlers or authenticators replaced."""
    return build_app(
        spec,
        {**HANDLERS, **(handlers or {})},
        authenticators={**AUTHENTICATORS, **(authenticators or {})},
        **options,
    )


async def send(app: FastAPI, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request to ``app`` in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
        return await client.request(method, url, **kwargs)


def problem_of(response: httpx.Response) -> dict[str, Any]:
    """The problem document of an error response (checking its media type)."""
    assert response.headers["content-type"] == "application/problem+json", response.text
    body = response.json()
    assert body["status"] == response.status_code
    return body  # type: ignore[no-any-return]
