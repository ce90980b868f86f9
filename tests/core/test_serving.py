"""uvicorn in a thread on a free port: ready when start() returns, gone when stop() returns."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from lotflow.errors import ServerStartError
from lotflow.serving import ServerThread


async def hello(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


def _app() -> Starlette:
    return Starlette(routes=[Route("/", hello)])


def test_a_served_app_answers_on_its_bound_port_until_stopped() -> None:
    server = ServerThread(_app()).start()
    try:
        assert server.port != 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        response = httpx.get(server.url + "/")
        assert (response.status_code, response.text) == (200, "hello")
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/")
    with socket.socket() as probe:  # the listening socket is closed: the port can be bound again
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", server.port))


def test_the_context_manager_starts_and_stops() -> None:
    with ServerThread(_app()) as server:
        assert httpx.get(server.url + "/").status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/")


def test_two_servers_get_different_ports() -> None:
    with ServerThread(_app()) as first, ServerThread(_app()) as second:
        assert first.port != second.port


def test_a_server_whose_startup_fails_raises_instead_of_hanging() -> None:
    def open_database() -> None:
        raise RuntimeError("cannot open the database")

    @asynccontextmanager
    async def failing(_app: Starlette) -> AsyncIterator[None]:
        open_database()
        yield

    with pytest.raises(ServerStartError, match="stopped during start-up"):
        ServerThread(Starlette(lifespan=failing)).start(timeout=5)


def test_the_url_is_unknown_before_start() -> None:
    with pytest.raises(ServerStartError, match="not been started"):
        _ = ServerThread(_app()).url


def test_a_served_app_does_not_announce_its_server_software() -> None:
    server = ServerThread(_app()).start()
    try:
        response = httpx.get(server.url + "/")
    finally:
        server.stop()
    assert "server" not in response.headers
