"""The webhook fault schedule: a real buyer process, a receiver that goes down, fails and hangs,
and kill -9 of the buyer, with every event counted.

    python benchmarks/faults.py [--phase-seconds 4] [--workers 2] [--drain-deadline 60]

A real ``lotflow serve buyer`` process (uvicorn, its dispatcher in the lifespan) runs on a SQLite
file in a temporary folder; an operator client publishes lots (one ``lot.published`` event each)
while a local receiver, in this process, answers them. The schedule, one phase after another:
steady, receiver down (connection refused), receiver failing (503), receiver hanging every
answer, receiver hanging one event's answer only (the others' latency shows whether it blocks
them), kill -9 of the buyer with the receiver down, in the middle of a delivery stream, and
while its sends hang (so that it dies holding leases); after each kill the buyer restarts on the
same file. Each phase stops the load when its
fault ends and times the drain: until the buyer's delivery log holds no pending event.

Counted at the end: committed (events in the buyer's outbox, read through its API), delivered
(distinct webhook-ids the receiver answered 2xx), lost (committed, never answered 2xx),
duplicated after 2xx (a request for an id the receiver had already answered 2xx: the receiver
de-duplicates them, but each is a resend). The buyer runs with a compressed retry schedule
(base 0.05 s, cap 1 s, timeout 2 s) so that a phase takes seconds; the default schedule's window
is shown by the test suite on an injected clock. Exit code 0 when nothing was lost, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from bench_webhooks import LOT
from benchkit import TOKEN, buyer_env

SCHEDULE_ENV = {
    "LOTFLOW_WEBHOOK_BACKOFF_BASE": "0.05",
    "LOTFLOW_WEBHOOK_BACKOFF_CAP": "1",
    "LOTFLOW_WEBHOOK_TIMEOUT": "2",
}
_LISTENING = re.compile(r"running on (http://\S+)")


# ---------------------------------------------------------------------------------- receiver


@dataclass
class Receiver:
    """A webhook receiver on asyncio streams whose behaviour the schedule switches."""

    mode: str = "up"  # up | down | fail | hang | hang-one | slow
    acked: set[str] = field(default_factory=set)
    duplicates: int = 0
    requests: int = 0
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (when, seconds)
    hung_id: str | None = None
    port: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def switch(self, mode: str) -> None:
        """Go into ``mode``: closing the port for ``down``, opening it again otherwise."""
        self.mode, self.hung_id = mode, None
        self._changed.set()
        self._changed = asyncio.Event()
        if mode == "down" and self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            self._server = None
        elif mode != "down" and self._server is None:
            self._server = await asyncio.start_server(
                self._connection, "127.0.0.1", self.port, reuse_address=True
            )
            self.port = self._server.sockets[0].getsockname()[1]

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while await self._exchange(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        fields = dict(_header(line) for line in head.split(b"\r\n")[1:] if b":" in line)
        body = await reader.readexactly(int(fields.get("content-length", "0")))
        self.requests += 1
        event_id = fields.get("webhook-id", "")
        status = await self._answer(event_id)
        if status is None:
            return False
        if 200 <= status < 300:
            self._ack(event_id, body)
        payload = b'{"received":true}'
        writer.write(
            b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
            % (status, len(payload), payload)
        )
        await writer.drain()
        return True

    async def _answer(self, event_id: str) -> int | None:
        """The status for this request (None: the connection is dropped unanswered)."""
        if self.mode == "hang-one" and self.hung_id in (None, event_id):
            self.hung_id = event_id
            await self._changed.wait()
            return None
        if self.mode == "hang":
            await self._changed.wait()
            return None
        if self.mode == "slow":
            await asyncio.sleep(0.02)
        return 503 if self.mode == "fail" else 200

    def _ack(self, event_id: str, body: bytes) -> None:
        if event_id in self.acked:
            self.duplicates += 1
            return
        self.acked.add(event_id)
        stamp = datetime.fromisoformat(json.loads(body)["timestamp"])
        now = time.time()
        self.latencies.append((now, now - stamp.timestamp()))


def _header(line: bytes) -> tuple[str, str]:
    name, _, value = line.decode("latin-1").partition(":")
    return name.strip().lower(), value.strip()


# ---------------------------------------------------------------------------------- buyer


@dataclass
class Buyer:
    """A ``lotflow serve buyer`` process on one SQLite file, restartable after a kill -9."""

    folder: Path
    webhook_url: str
    process: subprocess.Popen[str] | None = None
    url: str = ""
    kills: int = 0

    def env(self) -> dict[str, str]:
        database = f"sqlite:///{self.folder / 'buyer.sqlite3'}"
        webhook_url = self.webhook_url + "/api/webhooks/lots"
        return {**os.environ, **buyer_env(database, webhook_url), **SCHEDULE_ENV}

    async def start(self) -> None:
        command = [sys.executable, "-m", "lotflow.cli", "serve", "buyer", "--port", "0"]
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter and lotflow's own CLI
            command, env=self.env(), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        self.url = await asyncio.to_thread(self._listening_url)

    def _listening_url(self) -> str:
        assert self.process is not None
        assert self.process.stderr is not None
        for line in self.process.stderr:
            found = _LISTENING.search(line)
            if found:
                threading_drain(self.process.stderr)
                return found.group(1)
        raise RuntimeError(f"the buyer did not start (exit code {self.process.wait()})")

    def kill(self) -> None:
        """kill -9: no shutdown, no lease released, nothing flushed."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def threading_drain(stream: Any) -> None:
    """Keep reading the buyer's log in a thread, so that a full pipe never blocks it."""
    import threading

    threading.Thread(target=lambda: [None for _ in stream], daemon=True).start()


# ---------------------------------------------------------------------------------- load


@dataclass
class Load:
    """Operator clients that publish lots against whatever buyer URL is current."""

    buyer: Buyer
    workers: int
    published: int = 0
    _running: bool = False

    async def run_while(self, fault: Callable[[], Any], seconds: float) -> None:
        """Publish for ``seconds`` while ``fault`` (a coroutine function) plays out."""
        self._running = True
        tasks = [asyncio.create_task(self._worker()) for _ in range(self.workers)]
        try:
            await asyncio.gather(fault(), _after(seconds))
        finally:
            self._running = False
            await asyncio.gather(*tasks)

    async def _worker(self) -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(headers=headers, timeout=10) as client:
            while self._running:
                try:
                    lot = (await client.post(self.buyer.url + "/api/lots", json=LOT)).json()
                    path = f"/api/lots/{lot['lot']['_id']}/publish"
                    if (await client.post(self.buyer.url + path)).status_code == 200:
                        self.published += 1
                except (httpx.HTTPError, KeyError, ValueError):
                    await asyncio.sleep(0.05)  # the buyer is restarting: try again shortly


async def _after(seconds: float) -> None:
    await asyncio.sleep(seconds)


# ---------------------------------------------------------------------------------- schedule


@dataclass
class PhaseResult:
    name: str
    published: int
    drain_seconds: float | None
    p50_ms: float | None
    p99_ms: float | None


class Schedule:
    """The phases, each a fault during load, then a timed drain."""

    def __init__(self, args: argparse.Namespace, folder: Path, receiver: Receiver) -> None:
        self.args, self.receiver = args, receiver
        self.buyer = Buyer(folder, receiver.url)
        self.load = Load(self.buyer, args.workers)
        self.results: list[PhaseResult] = []

    async def run(self) -> None:
        await self.buyer.start()
        seconds = self.args.phase_seconds
        try:
            await self.phase("steady", "up", seconds)
            await self.phase("receiver down", "down", seconds)
            await self.phase("receiver answers 503", "fail", seconds)
            await self.phase("receiver hangs every answer", "hang", seconds)
            await self.phase("receiver hangs one event", "hang-one", seconds)
            await self.phase("kill -9, receiver down", "down", seconds, kill=True)
            await self.phase("kill -9 mid-stream", "slow", seconds, kill=True)
            await self.phase("kill -9 while sends hang", "hang", seconds, kill=True)
        finally:
            self.buyer.stop()

    async def phase(self, name: str, mode: str, seconds: float, *, kill: bool = False) -> None:
        before, began = self.load.published, time.time()

        async def fault() -> None:
            await self.receiver.switch(mode)
            if kill:
                await asyncio.sleep(seconds / 2)
                self.buyer.kill()
                await self.buyer.start()

        await self.load.run_while(fault, seconds)
        await self.receiver.switch("up")
        drain = await self.drained()
        during = [s for when, s in self.receiver.latencies if when >= began]
        self.results.append(
            PhaseResult(name, self.load.published - before, drain, *_percentiles(during))
        )

    async def drained(self) -> float | None:
        """Seconds until the buyer's log holds no pending event (None: not by the deadline)."""
        began = time.perf_counter()
        deadline = began + self.args.drain_deadline
        async with _operator() as client:
            while time.perf_counter() < deadline:
                query = {"status": "pending", "limit": 1}
                found = await client.get(self.buyer.url + "/api/webhooks/deliveries", params=query)
                if found.json()["count"] == 0:
                    return time.perf_counter() - began
                await asyncio.sleep(0.05)
        return None

    async def committed(self) -> dict[str, str]:
        """Every event in the buyer's outbox, with its delivery status."""
        events: dict[str, str] = {}
        async with _operator() as client:
            while True:
                query = {"limit": 200, "offset": len(events)}
                page = await client.get(self.buyer.url + "/api/webhooks/deliveries", params=query)
                rows = page.json()["deliveries"]
                events.update((row["_id"], row["status"]) for row in rows)
                if len(rows) < 200:
                    return events


def _operator() -> httpx.AsyncClient:
    return httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)


def _percentiles(seconds: list[float]) -> tuple[float | None, float | None]:
    if not seconds:
        return None, None
    ordered = sorted(seconds)
    p99 = ordered[int(0.99 * (len(ordered) - 1))]
    return 1000 * statistics.median(ordered), 1000 * p99


# ---------------------------------------------------------------------------------- report


def report(schedule: Schedule, events: dict[str, str]) -> int:
    receiver = schedule.receiver
    lost = set(events) - receiver.acked
    print(f"\n{os.cpu_count()} CPU(s); buyer settings {SCHEDULE_ENV}; machine possibly shared")
    print(f"{'phase':<30}{'published':>10}{'drain s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for row in schedule.results:
        drain = "NOT DRAINED" if row.drain_seconds is None else f"{row.drain_seconds:.2f}"
        p50 = "-" if row.p50_ms is None else f"{row.p50_ms:.1f}"
        p99 = "-" if row.p99_ms is None else f"{row.p99_ms:.1f}"
        print(f"{row.name:<30}{row.published:>10}{drain:>9}{p50:>9}{p99:>9}")
    states = {status: list(events.values()).count(status) for status in set(events.values())}
    print(
        f"\ncommitted {len(events)}  delivered {len(receiver.acked & set(events))}  "
        f"lost {len(lost)}  duplicated after 2xx {receiver.duplicates}  "
        f"(requests {receiver.requests}, buyer kills {schedule.buyer.kills}, "
        f"buyer's log {states})"
    )
    return 1 if lost else 0


async def run(args: argparse.Namespace) -> int:
    receiver = Receiver()
    await receiver.switch("up")
    with tempfile.TemporaryDirectory(prefix="lotflow-faults-") as folder:
        schedule = Schedule(args, Path(folder), receiver)
        await schedule.run()
        await schedule.buyer.start()  # read the outbox through the API of a fresh process
        try:
            events = await schedule.committed()
        finally:
            schedule.buyer.stop()
    return report(schedule, events)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--phase-seconds", type=float, default=4.0, help="length of each fault")
    parser.add_argument("--workers", type=int, default=2, help="concurrent publishing clients")
    parser.add_argument("--drain-deadline", type=float, default=60.0, help="seconds per drain")
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s); running…", flush=True)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
