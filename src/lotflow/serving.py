"""Serve an ASGI app with uvicorn in a background thread, on a free port, with a readiness deadline.

    with ServerThread(app) as server:      # port 0: the OS picks a free port
        httpx.get(server.url + "/openapi.json")

``start()`` returns once uvicorn reports it has started and its socket is bound (``url`` then
names the real port), or raises ``ServerStartError`` at the deadline or when the server thread
dies during start-up. ``stop()`` asks uvicorn to shut down gracefully and joins the thread.
"""

from __future__ import annotations

import threading
from typing import Any

import uvicorn

from lotflow.clock import Clock, SystemClock
from lotflow.errors import ServerStartError

__all__ = ["ServerThread"]

_POLL_SECONDS = 0.005


class ServerThread:
    """uvicorn serving ``app`` on ``host:port`` in a daemon thread."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_level: str = "warning",
        clock: Clock | None = None,
    ) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, log_level=log_level, lifespan="auto", server_header=False
        )
        self._server = uvicorn.Server(config)
        self._host = host
        self._clock = clock or SystemClock()
        self._thread = threading.Thread(target=self._serve, name="lotflow-uvicorn", daemon=True)
        self._url: str | None = None
        self._exit_code: object = None

    @property
    def url(self) -> str:
        """``http://host:port`` with the bound port; only known once started."""
        if self._url is None:
            raise ServerStartError("The server has not been started; call start() first.")
        return self._url

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self.url.rsplit(":", 1)[1])

    def start(self, timeout: float = 10.0) -> ServerThread:
        """Start serving and wait until the server accepts connections."""
        self._thread.start()
        deadline = self._clock.monotonic() + timeout
        while not self._ready():
            if not self._thread.is_alive():
                raise ServerStartError(
                    f"The server on {self._host} stopped during start-up (exit code "
                    f"{self._exit_code}); its log names the cause."
                )
            if self._clock.monotonic() > deadline:
                self.stop()
                raise ServerStartError(f"The server on {self._host} did not start in {timeout}s.")
            self._thread.join(_POLL_SECONDS)  # returns early if the thread dies
        self._url = f"http://{self._url_host()}:{self._bound_port()}"
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Shut down gracefully (forcefully if still running after ``timeout``) and join."""
        if not self._thread.is_alive():
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)

    def _serve(self) -> None:
        try:
            self._server.run()
        except SystemExit as exc:  # uvicorn exits when it cannot bind or its startup fails
            self._exit_code = exc.code

    def _ready(self) -> bool:
        return bool(self._server.started and self._server.servers)

    def _bound_port(self) -> int:
        sockets = self._server.servers[0].sockets
        return int(sockets[0].getsockname()[1])

    def _url_host(self) -> str:
        return f"[{self._host}]" if ":" in self._host else self._host

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
