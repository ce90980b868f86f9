"""What the benchmarks share: the servers they spawn (each in a process of its own) and the load
generator (a process of its own too).

    python benchmarks/benchkit.py serve ROLE ARG     # print the URL, serve until stdin closes
    python benchmarks/benchkit.py load LOAD_JSON     # print the result as JSON

Roles: ``buyer`` (as configured by default: responses validated, answer cache on),
``buyer-novalidate``, ``buyer-nocache`` (every marketplace read queries the tables), ``bare`` (a
bare FastAPI app answering list-lots with the buyer's very bytes and submit-bid by parsing the
JSON), ``receiver`` (a minimal ASGI webhook receiver that notes when each webhook-id arrived),
``producer`` (the reference producer portal: its webhook receivers verify, de-duplicate, store and
answer) and ``bare-hmac`` (a bare FastAPI endpoint doing only the same signature check). ARG is
a JSON object: ``folder``, ``database_url``, ``file``.

The load generator is a minimal keep-alive HTTP/1.1 client on asyncio streams, because httpx
needs so much CPU per request that it saturates near 2k requests/s on two cores; with ``sign``
it signs every request as a Standard Webhooks sender does, with a fresh webhook-id each time.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response

ORG = "6750a0ffe4b0f1a2b3c4d001"
API_KEY = "bench-producer-key"
TOKEN = "bench-operator-token"  # noqa: S105 - throwaway credentials of a local benchmark
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 - a published test vector
UNIQUE = "__UNIQUE__"  # replaced in each request body by a fresh 10-digit number
EVENT_UNIQUE = "msg_" + "Z" * 17 + UNIQUE  # a webhook-id made unique per request
PRODUCER_TOKEN = "bench-producer-operator-token"  # noqa: S105 - as above
PRODUCER_ORG = "6750a099e4b0f1a2b3c4dabc"
PRODUCER_OPERATORS = [{"orgId": PRODUCER_ORG, "name": "Iberia", "token": PRODUCER_TOKEN}]


def buyer_env(database_url: str, webhook_url: str = "") -> dict[str, str]:
    operators = [{"orgId": ORG, "name": "Nordic Air", "token": TOKEN}]
    return {
        "LOTFLOW_DATABASE_URL": database_url,
        "PRODUCER_API_KEY": API_KEY,
        "PRODUCER_DASHBOARD_WEBHOOK_SECRET": SECRET,
        "PRODUCER_DASHBOARD_WEBHOOK_URL": webhook_url or "http://127.0.0.1:9/api/webhooks/lots",
        "LOTFLOW_BUYER_OPERATORS": json.dumps(operators),
    }


def producer_env(database_url: str) -> dict[str, str]:
    return {
        "LOTFLOW_DATABASE_URL": database_url,
        "NEXT_PUBLIC_BUYER_DASHBOARD_URL": "http://127.0.0.1:9",
        "BUYER_API_KEY": API_KEY,
        "BUYER_WEBHOOK_SECRET": SECRET,
        "LOTFLOW_PRODUCER_OPERATORS": json.dumps(PRODUCER_OPERATORS),
    }


# ---------------------------------------------------------------------------------- servers


def buyer_app(database_url: str, validate: bool = True, cache: bool = True) -> Any:
    from lotflow.reference.buyer import BuyerSettings, create_app

    env = buyer_env(database_url) | {
        "LOTFLOW_VALIDATE_RESPONSES": "true" if validate else "false",
        "LOTFLOW_ANSWER_CACHE": "true" if cache else "false",
    }
    return create_app(BuyerSettings.from_env(env), dispatcher_enabled=False)


def producer_app(database_url: str) -> Any:
    from lotflow.reference.producer.app import create_app
    from lotflow.reference.producer.settings import ProducerSettings

    return create_app(ProducerSettings.from_env(producer_env(database_url)))


def bare_app(list_body: Path) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    content = list_body.read_bytes()

    @app.get("/api/lots/external")
    async def lots() -> Response:
        return Response(content, media_type="application/json")

    @app.post("/api/bids")
    async def bid(request: Request) -> Response:
        body = await request.json()
        return Response(json.dumps({"bid": body}), 201, media_type="application/json")

    return app


def bare_hmac_app() -> FastAPI:
    """Only the receiver's signature check on the raw body, then 200: what a receiver must do."""
    from lotflow.clock import SystemClock
    from lotflow.signing import WebhookVerifier

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    verifier = WebhookVerifier([SECRET], SystemClock())

    @app.post("/api/webhooks/lots")
    async def receive(request: Request) -> Response:
        event_id = verifier.verify(request.headers, await request.body())
        answer = {"received": True, "eventId": event_id, "duplicate": False, "applied": True}
        return Response(json.dumps(answer), media_type="application/json")

    return app


def receiver_app() -> Any:
    """A minimal ASGI webhook receiver: reads the body, notes when the webhook-id arrived,
    answers 200; ``GET /arrivals`` answers the notes (webhook-id → Unix time)."""
    answer = b'{"received":true,"eventId":"","duplicate":false,"applied":true}'
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
    arrivals: dict[str, float] = {}

    async def app(
        scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] == "GET":
            notes = json.dumps(arrivals).encode()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": notes})
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        event_id = dict(scope["headers"]).get(b"webhook-id", b"").decode()
        arrivals.setdefault(event_id, time.time())
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    return app


def serve(role: str, arg: dict[str, str]) -> None:
    """Serve one app on a free port, print its URL, and run until stdin closes."""
    from lotflow.serving import ServerThread

    url = arg.get("database_url", "")
    makers: dict[str, Callable[[], Any]] = {
        "buyer": lambda: buyer_app(url),
        "buyer-novalidate": lambda: buyer_app(url, validate=False),
        "buyer-nocache": lambda: buyer_app(url, cache=False),
        "bare": lambda: bare_app(Path(arg["file"])),
        "receiver": receiver_app,
        "producer": lambda: producer_app(url),
        "bare-hmac": bare_hmac_app,
    }
    server = ServerThread(makers[role]()).start()
    print(server.url, flush=True)
    sys.stdin.read()
    server.stop()


_PIDS: dict[str, int] = {}  # the process of each spawned server, by URL


def cpu_seconds(url: str) -> float:
    """CPU time (user + system, all threads) the server at ``url`` has used so far (Linux)."""
    fields = Path(f"/proc/{_PIDS[url]}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def spawned(role: str, **arg: str) -> Iterator[str]:
    """A server process; yields its URL and ends it (by its own pid) on the way out."""
    command = [sys.executable, __file__, "serve", role, json.dumps(arg)]
    process = subprocess.Popen(  # noqa: S603 - this very script, with arguments it built
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"the {role} server did not start")
        _PIDS[url] = process.pid
        yield url
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(timeout=10)


# ---------------------------------------------------------------------------------- load


@dataclass(frozen=True)
class Load:
    method: str
    url: str
    headers: dict[str, str]
    body: str | None
    duration: float
    concurrency: int
    client: str = "raw"
    sign: bool = False  # sign each request (Standard Webhooks) with a fresh webhook-id


class RawConnection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: a load generator that costs far
    less CPU per request than httpx, so that it does not saturate before a fast server does."""

    def __init__(self, url: str) -> None:
        parts = httpx.URL(url)
        self.host, self.port = parts.host, parts.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, target: str, headers: dict[str, str], body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"{method} {target} HTTP/1.1", f"host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines += [f"content-length: {len(body)}", "", ""]
        self.writer.write("\r\n".join(lines).encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        fields = head.lower().split(b"\r\n")
        length = next(int(f[15:]) for f in fields if f.startswith(b"content-length:"))
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class Requests:
    """The bodies and headers of a load: a fresh number in each body, signed when asked."""

    def __init__(self, load: Load) -> None:
        from lotflow.clock import SystemClock
        from lotflow.signing import signature_headers

        base = secrets.randbelow(8000) * 10**6  # fresh ids in every load, even on one database
        self.load, self.counter = load, iter(range(base, base + 10**6))
        self.sign = lambda event_id, body: signature_headers(
            [SECRET], event_id, body, SystemClock()
        )

    def next(self) -> tuple[dict[str, str], bytes]:
        if not self.load.body:
            return self.load.headers, b""
        number = f"{next(self.counter):010d}"
        body = self.load.body.replace(UNIQUE, number).encode()
        if not self.load.sign:
            return self.load.headers, body
        event_id = EVENT_UNIQUE.replace(UNIQUE, number)
        return self.load.headers | self.sign(event_id, body), body


async def _drive(load: Load) -> dict[str, Any]:
    """``concurrency`` workers, each on its own connection, sending for ``duration`` seconds."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + load.duration
    target = httpx.URL(load.url).raw_path.decode()
    requests = Requests(load)

    async def httpx_worker() -> None:
        nonlocal errors
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            while (start := time.perf_counter()) < deadline:
                headers, body = requests.next()
                response = await client.request(
                    load.method, load.url, headers=headers, content=body
                )
                latencies.append(time.perf_counter() - start)
                errors += response.status_code not in (200, 201)

    async def raw_worker() -> None:
        nonlocal errors
        connection = RawConnection(load.url)
        try:
            while (start := time.perf_counter()) < deadline:
                headers, body = requests.next()
                status = await connection.request(load.method, target, headers, body)
                latencies.append(time.perf_counter() - start)
                errors += status not in (200, 201)
        finally:
            connection.close()

    worker = raw_worker if load.client == "raw" else httpx_worker
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(load.concurrency)))
    return summary(latencies, time.perf_counter() - began) | {"errors": errors}


def summary(latencies: list[float], elapsed: float) -> dict[str, Any]:
    """Count, rate, p50 and p99 (ms) of some latencies (seconds)."""
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "rps": len(ordered) / elapsed,
        "p50": 1000 * statistics.median(ordered),
        "p99": 1000 * ordered[int(0.99 * (len(ordered) - 1))],
    }


def run_load(load: Load, server: str | None = None) -> dict[str, Any]:
    """The load's figures, with ``cpu_ms``: the CPU the spawned ``server`` spent per request
    (a figure that a loaded machine disturbs far less than the rate)."""
    command = [sys.executable, __file__, "load", json.dumps(asdict(load))]
    before = cpu_seconds(server) if server else 0.0
    out = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603 - as above
    found = dict(json.loads(out.stdout))
    if server:
        found["cpu_ms"] = 1000 * (cpu_seconds(server) - before) / max(found["requests"], 1)
    return found


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"]:
        serve(argv[1], json.loads(argv[2]))
    elif argv[:1] == ["load"]:
        print(json.dumps(asyncio.run(_drive(Load(**json.loads(argv[1]))))), flush=True)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
