"""Throughput of the reference buyer's hot endpoints against a bare FastAPI endpoint, and the
webhook dispatcher's signed deliveries per second. Not a test: it prints figures.

    python benchmarks/bench_buyer.py            (or: nox -s bench)

Each server runs alone under uvicorn (one worker, uvloop + httptools, no access log) in its own
process on a free port; the load comes from this process over raw HTTP/1.1 keep-alive
connections, so the client is never the bottleneck. The bare endpoint serves the very bytes the
portal's list-lots answers (and echoes bids), so the ratio isolates what the portal adds:
authentication, parameter and body validation against the spec, the database, the response
check. Targets: list-lots ≥ 0.5x, submit-bid ≥ 0.3x, ≥ 500 signed deliveries/s.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "bench-api-key-0123456789"
TOKEN = "bench-operator-token"  # noqa: S105 - a throwaway token for a local benchmark
ORG = "6750a0ffe4b0f1a2b3c4d001"
DURATION = float(os.environ.get("BENCH_SECONDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
DELIVERIES = int(os.environ.get("BENCH_DELIVERIES", "2000"))
LOT = {
    "title": "HEFA-SPK SAF lot",
    "type": "HEFA-SPK",
    "volume": {"amount": 500000, "unit": "gallons"},
    "pricing": {"price": 3250000, "currency": "USD", "pricePerUnit": 6.5},
    "compliance": {"standards": ["ISCC-EU"]},
}


@contextmanager
def serve(factory: str, env: dict[str, str]) -> Iterator[str]:
    """Run ``benchmarks.servers:<factory>`` under uvicorn on a free port; yield its base URL."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        f"benchmarks.servers:{factory}",
        "--factory",
        "--port",
        "0",
        "--log-level",
        "info",
        "--no-access-log",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
    ]
    process = subprocess.Popen(  # noqa: S603 - a fixed argv of this interpreter, no shell
        command, cwd=ROOT, env={**os.environ, **env}, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        assert process.stderr is not None
        for line in process.stderr:
            match = re.search(r"Uvicorn running on (http://\S+)", line)
            if match:
                yield match.group(1)
                return
            if time.monotonic() > deadline:
                break
        raise RuntimeError(f"{factory} did not start")
    finally:
        process.terminate()
        process.wait(10)


async def _worker(
    host: str,
    port: int,
    requests: Callable[[int], bytes],
    stop: float,
    latencies: list[float],
    index: int,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    count = 0
    while time.perf_counter() < stop:
        started = time.perf_counter()
        writer.write(requests(index * 1_000_000 + count))
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
        await reader.readexactly(length)
        if not head.startswith(b"HTTP/1.1 2"):
            raise RuntimeError(head.decode(errors="replace"))
        latencies.append(time.perf_counter() - started)
        count += 1
    writer.close()


def load(url: str, requests: Callable[[int], bytes]) -> dict[str, float]:
    """Drive ``url`` with CONNECTIONS keep-alive connections for DURATION seconds."""
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []

    async def run() -> None:
        stop = time.perf_counter() + DURATION
        await asyncio.gather(
            *(_worker(host, int(port), requests, stop, latencies, i) for i in range(CONNECTIONS))
        )

    asyncio.run(run())
    cuts = statistics.quantiles(latencies, n=100)
    return {"rps": len(latencies) / DURATION, "p50": cuts[49] * 1000, "p99": cuts[98] * 1000}


def get_request(path: str, headers: str) -> Callable[[int], bytes]:
    raw = f"GET {path} HTTP/1.1\r\nHost: bench\r\n{headers}\r\n".encode()
    return lambda _n: raw


def bid_request(lot_id: str) -> Callable[[int], bytes]:
    def make(n: int) -> bytes:
        body = json.dumps(
            {
                "lotId": lot_id,
                "volume": {"amount": 10, "unit": "gallons"},
                "pricing": {"price": 63, "currency": "USD", "pricePerUnit": 6.3},
                "bidderId": "bench",
                "bidderName": "Bench Producer",
                "externalBidId": f"bench-{n}",
            }
        ).encode()
        head = (
            f"POST /api/bids HTTP/1.1\r\nHost: bench\r\nX-API-Key: "
            f"{API_KEY}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    return make


def buyer_env(workdir: Path, validate: bool) -> dict[str, str]:
    return {
        "LOTFLOW_DATABASE_URL": f"sqlite:///{workdir}/buyer.sqlite3",
        "PRODUCER_API_KEY": API_KEY,
        "PRODUCER_DASHBOARD_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "LOTFLOW_BUYER_OPERATORS": json.dumps(
            [{"orgId": ORG, "name": "Bench Air", "token": TOKEN}]
        ),
        "LOTFLOW_VALIDATE_RESPONSES": "1" if validate else "0",
    }


def seed(url: str, lots: int = 50) -> tuple[str, bytes]:
    import httpx

    operator = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=url) as client:
        ids = []
        for n in range(lots):
            lot = client.post(
                "/api/lots", json={**LOT, "title": f"HEFA-SPK SAF lot {n}"}, headers=operator
            ).json()["lot"]
            client.post(f"/api/lots/{lot['_id']}/publish", headers=operator)
            ids.append(lot["_id"])
        listing = client.get(
            "/api/lots/external",
            params={"status": "published", "limit": 50},
            headers={"X-API-Key": API_KEY},
        ).content
    return ids[0], listing


ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def http_figures(validate: bool) -> dict[str, dict[str, float]]:
    """Both servers run at once; portal and bare rounds alternate and the medians are compared,
    so a drift in background load affects both sides alike."""
    listing_path = "/api/lots/external?status=published&limit=50"
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        with serve("buyer_app", buyer_env(workdir, validate)) as portal_url:
            lot_id, listing = seed(portal_url)
            (workdir / "listing.json").write_bytes(listing)
            with serve("bare_app", {"BENCH_LISTING": str(workdir / "listing.json")}) as bare_url:
                loads = {
                    "list-lots": (
                        lambda url, auth: load(url, get_request(listing_path, auth)),
                        f"X-API-Key: {API_KEY}\r\n",
                    ),
                    "submit-bid": (lambda url, _auth: load(url, bid_request(lot_id)), ""),
                }
                return {
                    name: _rounds(run, auth, portal_url, bare_url)
                    for name, (run, auth) in loads.items()
                }


def _rounds(
    run: Callable[[str, str], dict[str, float]], auth: str, portal_url: str, bare_url: str
) -> dict[str, float]:
    portal, bare = [], []
    for _ in range(ROUNDS):
        portal.append(run(portal_url, auth))
        bare.append(run(bare_url, ""))
    median = {key: statistics.median(r[key] for r in portal) for key in ("rps", "p50", "p99")}
    bare_rps = statistics.median(r["rps"] for r in bare)
    return {**median, "bare_rps": bare_rps, "ratio": median["rps"] / bare_rps}


def delivery_figures() -> float:
    from lotflow.reference.buyer.app import create_app
    from lotflow.reference.buyer.settings import BuyerSettings

    from lotflow.clock import SystemClock, isoformat
    from lotflow.ids import new_event_id

    with tempfile.TemporaryDirectory() as tmp, serve("receiver_app", {}) as receiver:
        env = {
            **buyer_env(Path(tmp), True),
            "PRODUCER_DASHBOARD_WEBHOOK_URL": receiver + "/api/webhooks/lots",
        }
        app = create_app(BuyerSettings.from_env(env), dispatcher_enabled=False)
        ctx, now = app.state.context, SystemClock().now()
        payload = json.dumps({"event": "lot.updated", "lot": LOT})
        rows = [
            {
                "id": new_event_id(),
                "org_id": ORG,
                "event": "lot.updated",
                "path": "/api/webhooks/lots",
                "payload": payload,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now.timestamp(),
                "lease_until": 0.0,
                "created_at": isoformat(now),
            }
            for _ in range(DELIVERIES)
        ]
        with ctx.db.write() as conn:
            conn.execute(ctx.tables.outbox.insert(), rows)
        started = time.perf_counter()
        made = asyncio.run(_deliver_all(app.state.dispatcher))
        elapsed = time.perf_counter() - started
        assert made == DELIVERIES, made
        return DELIVERIES / elapsed


async def _deliver_all(dispatcher: object) -> int:
    made = await dispatcher.run_once()  # type: ignore[attr-defined]
    await dispatcher.aclose()  # type: ignore[attr-defined]
    return int(made)


def main() -> None:
    print(
        f"lotflow buyer benchmark: {CONNECTIONS} connections, {ROUNDS} alternating rounds of "
        f"{DURATION:g} s per server, medians; one uvicorn worker per server\n"
    )
    for validate in (True, False):
        label = (
            "response validation on (default)"
            if validate
            else "response validation off (LOTFLOW_VALIDATE_RESPONSES=0)"
        )
        print(label)
        print(
            f"  {'endpoint':<11} {'portal req/s':>12} {'bare req/s':>11} {'ratio':>6} "
            f"{'target':>7} {'p50 ms':>7} {'p99 ms':>7}"
        )
        for name, f in http_figures(validate).items():
            target = 0.5 if name == "list-lots" else 0.3
            mark = "ok" if f["ratio"] >= target else "MISS"
            print(
                f"  {name:<11} {f['rps']:>12.0f} {f['bare_rps']:>11.0f} {f['ratio']:>6.2f} "
                f"{'≥' + str(target):>7} {f['p50']:>7.1f} {f['p99']:>7.1f}  {mark}"
            )
        print()
    rate = delivery_figures()
    print(
        f"webhook dispatcher: {rate:.0f} signed deliveries/s to a local receiver ({DELIVERIES} "
        f"events; target ≥ 500)  {'ok' if rate >= 500 else 'MISS'}"
    )


if __name__ == "__main__":
    main()
