"""App factories the benchmark serves with uvicorn in subprocesses (``--factory``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response


def buyer_app() -> FastAPI:
    """The reference buyer, configured from the environment the benchmark sets."""
    from lotflow.reference.buyer.app import create_app
    from lotflow.reference.buyer.settings import BuyerSettings

    return create_app(BuyerSettings.from_env(os.environ), dispatcher_enabled=False)


def bare_app() -> FastAPI:
    """A bare FastAPI app serving the same list-lots bytes from memory and echoing bids."""
    listing = Path(os.environ["BENCH_LISTING"]).read_bytes()
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/api/lots/external")
    async def list_lots() -> Response:
        return Response(listing, media_type="application/json")

    @app.post("/api/bids")
    async def submit_bid(request: Request) -> Response:
        body = json.loads(await request.body())
        return Response(json.dumps({"bid": body}).encode(), 201, media_type="application/json")

    return app


def receiver_app() -> FastAPI:
    """A webhook receiver that acknowledges everything."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/api/webhooks/{kind}")
    async def receive(kind: str) -> Response:
        return Response(b'{"received":true}', media_type="application/json")

    return app
