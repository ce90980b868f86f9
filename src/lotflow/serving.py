"""Serve an ASGI app with uvicorn in a background thread, on a free port, with a readiness deadline."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

import uvicorn

from lotflow.clock import Clock, SystemClock


class ServerStartError(RuntimeError):
    """The server did not come up before its deadline."""


class ServerThread:
    """uvicorn on ``host:port`` (port 0: a free one) in a daemon thread. ``url`` once started."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, clock: Clock | None = None) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._server.run, name=f"uvicorn-{host}", daemon=True)
        self._host = host
        self._clock = clock or SystemClock()
        self.url = ""

    def start(self, timeout: float = 15.0) -> ServerThread:
        self._thread.start()
        deadline = self._clock.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or self._clock.monotonic() > deadline:
                raise ServerStartError(f"The server on {self._host} did not start within {timeout} s.")
            self._thread.join(0.01)  # wait on the thread itself: returns early if it dies
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://{self._host}:{port}"
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.stop()
