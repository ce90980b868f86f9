"""What both simulators share: a server on a free port, the control client, the record.

A simulator stands in for one party: it serves that party's side of the spec (by reusing its
reference portal) behind a front that records, validates and injects faults. It is also the
scenario engine's webhook tap (``log`` and ``down``), so the scenario catalogue runs between a
simulator and the opposite portal.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self

from lotflow.simulators.control import ControlClient
from lotflow.simulators.faults import FaultPlan, load_fault_plan, parse_fault_plan
from lotflow.simulators.findings import Finding
from lotflow.simulators.recording import Exchange
from lotflow.simulators.state import SimulationState

from lotflow.db import sqlite_url
from lotflow.engine.tap import WebhookLog
from lotflow.errors import ConfigError, ServerStartError
from lotflow.serving import ServerThread
from lotflow.signing import secret_key

__all__ = ["Simulator", "checked_secret"]


def checked_secret(secret: str, flag: str = "--secret") -> str:
    """``secret`` when it can sign webhooks; a ConfigError naming it otherwise."""
    try:
        secret_key(secret)
    except ConfigError as exc:
        raise ConfigError(f"{flag} {_masked(secret)!r}: {exc}") from None
    return secret


def _masked(secret: str) -> str:
    return secret[:8] + "…" if len(secret) > 8 else secret


class Simulator:
    """The shared part; see :class:`~lotflow.simulators.BuyerSimulator` and
    :class:`~lotflow.simulators.ProducerSimulator`."""

    role = "simulator"
    options: ClassVar[dict[str, str]] = {}
    """The portal variables the simulator's options set (variable → option)."""

    def __init__(
        self, state: SimulationState, *, host: str, port: int, record: Path | None
    ) -> None:
        self.state = state
        self.control_token = secrets.token_urlsafe(24)
        self.record_path = record
        self.app: Any = None  # the front, set by the subclass
        self._host, self._port = host, port
        self._server: ServerThread | None = None
        self._control: ControlClient | None = None
        self._closers: list[Callable[[], None]] = []

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> Self:
        """Serve on ``host:port`` (0: a free port) and return once it accepts connections."""
        _check_free(self._host, self._port)
        try:
            self._server = ServerThread(self.app, self._host, self._port).start()
        except ServerStartError as exc:
            raise ServerStartError(
                f"The {self.role} simulator could not start on {self._host}:{self._port}: {exc}"
            ) from exc
        self._control = ControlClient(self._server.url, self.control_token)
        return self

    def stop(self) -> None:
        """Stop serving; write the record when ``record`` was given."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._control is not None:
            self._control.close()
            self._control = None
        for close in self._closers:
            close()
        if self.record_path is not None:
            self.state.recording.write(self.record_path, f"lotflow {self.role} simulator")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The simulator's base URL (once started)."""
        if self._server is None:
            raise ServerStartError(f"The {self.role} simulator has not been started; call start().")
        return self._server.url

    @property
    def control(self) -> ControlClient:
        """The client of this simulator's control surface."""
        if self._control is None:
            raise ServerStartError(f"The {self.role} simulator has not been started; call start().")
        return self._control

    def _database_url(self, database_url: str | None, name: str) -> str:
        """``database_url``, or a SQLite file in a folder removed when the simulator stops."""
        if database_url:
            return database_url
        workdir = tempfile.TemporaryDirectory(prefix=f"lotflow-{self.role}-sim-")
        self._closers.append(workdir.cleanup)
        return sqlite_url(Path(workdir.name) / name)

    def _settings(self, read: Callable[[dict[str, str]], Any], env: dict[str, str]) -> Any:
        """The reference portal's settings from ``env``; a refusal names the simulator's own
        option (``--api-key``) beside the portal's variable it went to."""
        try:
            return read(env)
        except ConfigError as exc:
            message = str(exc)
            for variable, option in self.options.items():
                message = message.replace(variable, f"{option} ({variable})")
            raise ConfigError(message) from None

    def describe(self) -> dict[str, Any]:
        """What the control surface's ``GET /_lotflow`` shows (no secrets)."""
        return {
            "role": self.role,
            **self._described(),
            "faults": self.state.plan.to_dict(),
            "exchanges": len(self.state.recording),
            "findings": len(self.state.findings),
            "down": self.state.down,
        }

    def _described(self) -> dict[str, Any]:
        return {}

    # ---------------------------------------------------------------- the tap's protocol
    @property
    def log(self) -> WebhookLog:
        """Webhook deliveries, as the scenario engine's tap keeps them."""
        return self.state.log

    @property
    def down(self) -> bool:
        """The portal this simulator plays is offline (answers 503 / sends nothing)."""
        return self.state.down

    @down.setter
    def down(self, value: bool) -> None:
        self.state.down = value

    # ---------------------------------------------------------------- what was seen
    def findings(self) -> list[Finding]:
        """Every finding so far."""
        return self.state.findings.all()

    def exchanges(self) -> list[Exchange]:
        """Every recorded exchange so far."""
        return self.state.recording.all()

    def write_record(self, path: Path | str) -> Path:
        """Write the recording as HAR 1.2."""
        return self.state.recording.write(path, f"lotflow {self.role} simulator")

    def use_faults(self, plan: FaultPlan | Path | str) -> FaultPlan:
        """Inject ``plan`` from now on (a plan, a file path, or YAML text)."""
        if isinstance(plan, Path):
            plan = load_fault_plan(plan)
        elif isinstance(plan, str):
            plan = parse_fault_plan(plan)
        self.state.use_plan(plan)
        return plan

    def reset(self) -> None:
        """Forget what was recorded and found; the plan's counters start afresh."""
        self.state.reset()

    def wait_for_webhooks(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until ``count`` webhook deliveries are in the log (or ``timeout`` seconds)."""
        return self.state.log.wait_until(lambda: len(self.state.log) >= count, timeout)


def _check_free(host: str, port: int) -> None:
    if port == 0:
        return
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"--port {port}: cannot listen on {host}:{port} ({exc.strerror}); "
                "expected a free port (or 0 for any free port)"
            ) from None
