"""Throughput of the reference portals, each measured against a bare FastAPI app in the same run,
and of the buyer's webhook dispatcher against a local receiver.

    python benchmarks/bench_buyer.py [--duration 3] [--rounds 3] [--concurrency 16]
                                     [--events 2000] [--client raw|httpx]
                                     [--postgres postgresql://user:pw@127.0.0.1:5432/postgres]
                                     [--only http,webhooks,receivers]

Every server runs under uvicorn with one worker in its own process on a free port (see
``benchkit``); the load generator (fixed concurrency, fixed duration) runs in a process of its
own. Samples are taken in interleaved rounds and the median round is reported, so that drift on
a shared machine evens out; ratios are taken within one run.

- Buyer HTTP: list-lots (a page of 50 lots, ~40 KB) and submit-bid (a new bid each time, stored
  before it is answered) of the buyer as configured by default (responses validated, answer
  cache on), with validation off, and with the cache off (a cold read: every request queries the
  tables), each against the bare app answering the same bytes / parsing the same JSON.
- Dispatcher: signed deliveries/s of 2,000 queued events to a local receiver in the default
  configuration (and with 16 sends at a time), and p50/p99 latency from commit to arrival when
  unloaded (one event every 10 ms, the dispatcher woken by each commit).
- Producer receivers: signed deliveries/s the reference producer accepts (verify, de-duplicate,
  store, answer; each a new event about a new lot) against a bare FastAPI endpoint doing only
  the same signature check, with p50/p99.

With ``--postgres`` (an admin URL; a fresh database is made per server and dropped after) the
portals run on PostgreSQL instead of SQLite files. The exit code is 0 whether or not a target is
met (it is a measurement).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
from bench_webhooks import LOT, delivery_latency, delivery_rate, receivers_round
from benchkit import API_KEY, TOKEN, UNIQUE, Load, run_load, spawned

LOTS = 50
LIST_PATH = "/api/lots/external?status=published"
PRODUCER = {"X-API-Key": API_KEY, "content-type": "application/json"}
ROLES = ("bare", "buyer", "buyer-novalidate", "buyer-nocache")
ROLES_OF = {"list-lots": ROLES, "submit-bid": ROLES[:3]}  # the cache serves reads only
KINDS = ("list-lots", "submit-bid")
TARGETS = {"list-lots": 0.5, "submit-bid": 0.3, "cold list-lots": 0.3, "receivers": 0.4}
DELIVERY_TARGET, LATENCY_TARGET_MS = 1000.0, 50.0
SECTIONS = ("http", "webhooks", "receivers")


class Databases:
    """Fresh databases: SQLite files in ``folder``, or databases on a PostgreSQL server."""

    def __init__(self, folder: Path, postgres: str | None) -> None:
        self.folder, self.postgres = folder, postgres
        self.made: list[str] = []

    @property
    def kind(self) -> str:
        return "PostgreSQL" if self.postgres else "SQLite (WAL, one file per portal)"

    def new(self, name: str) -> str:
        if not self.postgres:
            return f"sqlite:///{self.folder / (name + '.sqlite3')}"
        database = f"lotflow_bench_{name.replace('-', '_')}_{secrets.token_hex(4)}"
        self._admin(f"CREATE DATABASE {database}")
        self.made.append(database)
        return self.postgres.rsplit("/", 1)[0] + "/" + database

    def drop_all(self) -> None:
        for database in self.made:
            self._admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")

    def _admin(self, statement: str) -> None:
        import psycopg

        url = self.postgres.replace("+psycopg", "") if self.postgres else ""
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(statement)  # type: ignore[arg-type] - a name this class made


# ---------------------------------------------------------------------------------- buyer HTTP


def seed(url: str) -> str:
    """LOTS published lots; returns the id of one to bid on."""
    operator = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=url, headers=operator, timeout=30) as client:
        for _ in range(LOTS):
            lot = client.post("/api/lots", json=LOT).json()["lot"]
            client.post(f"/api/lots/{lot['_id']}/publish").raise_for_status()
    return str(lot["_id"])


def bid_template(lot_id: str) -> str:
    body = {
        "lotId": lot_id,
        "volume": {"amount": 1000, "unit": "gallons"},
        "pricing": {"price": 6300, "currency": "USD", "pricePerUnit": 6.3},
        "bidderId": "6750a099e4b0f1a2b3c4dabc",
        "bidderName": "Iberia Biofuels S.L.",
        "externalBidId": f"bench-{UNIQUE}",
    }
    return json.dumps(body)


@contextmanager
def buyer_servers(databases: Databases, folder: Path) -> Iterator[tuple[dict[str, str], dict]]:
    """The four servers of the HTTP figures (URLs by role) and the lot each bids on."""
    with ExitStack() as stack:
        main_db, fast_db = databases.new("buyer"), databases.new("buyer-fast")
        buyer = stack.enter_context(spawned("buyer", database_url=main_db))
        fast = stack.enter_context(spawned("buyer-novalidate", database_url=fast_db))
        lots = {"buyer": seed(buyer), "buyer-novalidate": seed(fast)}
        lots["buyer-nocache"] = lots["buyer"]
        (folder / "lots.json").write_bytes(httpx.get(buyer + LIST_PATH, headers=PRODUCER).content)
        bare = stack.enter_context(spawned("bare", file=str(folder / "lots.json")))
        uncached = stack.enter_context(spawned("buyer-nocache", database_url=main_db))
        yield (
            {"bare": bare, "buyer": buyer, "buyer-novalidate": fast, "buyer-nocache": uncached},
            lots,
        )


def measure_http(args: argparse.Namespace, databases: Databases, folder: Path) -> dict:
    """Every (endpoint, server) pair, in interleaved rounds; the median round of each."""
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with buyer_servers(databases, folder) as (urls, lots):
        for _ in range(args.rounds):  # interleaved, so that drift on a shared machine evens out
            for kind in KINDS:
                for role in ROLES_OF[kind]:
                    load = _load(kind, urls[role], lots.get(role, "0" * 24), args)
                    samples.setdefault((kind, role), []).append(run_load(load, urls[role]))
    return {key: _median(rows) for key, rows in samples.items()}


def _median(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(rows, key=lambda r: r["rps"])[len(rows) // 2]


def _load(kind: str, url: str, lot_id: str, args: argparse.Namespace) -> Load:
    timing = (args.duration, args.concurrency, args.client)
    if kind == "list-lots":
        return Load("GET", url + LIST_PATH, PRODUCER, None, *timing)
    return Load("POST", url + "/api/bids", PRODUCER, bid_template(lot_id), *timing)


# ---------------------------------------------------------------------------------- webhooks


def measure_webhooks(args: argparse.Namespace, databases: Databases) -> dict[str, Any]:
    rates: list[tuple[str, tuple[float, float]]] = []
    with spawned("receiver") as receiver:
        for name, options in (
            ("default (32 at a time)", {}),
            ("16 at a time", {"concurrency": 16}),
        ):
            samples = [
                asyncio.run(delivery_rate(databases.new("hooks"), receiver, args.events, **options))
                for _ in range(args.rounds)
            ]
            rates.append((f"{args.events} events, {name}", sorted(samples)[len(samples) // 2]))
        latency = asyncio.run(delivery_latency(databases.new("latency"), receiver, 200, 0.01))
    return {"rates": rates, "latency": latency}


def measure_receivers(args: argparse.Namespace, databases: Databases) -> dict[str, Any]:
    samples: dict[str, list[dict[str, Any]]] = {}
    with (
        spawned("bare-hmac") as bare,
        spawned("producer", database_url=databases.new("producer")) as producer,
    ):
        for _ in range(args.rounds):
            found = receivers_round(
                {"bare-hmac": bare, "producer": producer}, args.duration, args.concurrency
            )
            for role, row in found.items():
                samples.setdefault(role, []).append(row)
    return {role: _median(rows) for role, rows in samples.items()}


# ---------------------------------------------------------------------------------- report


def report(figures: dict[str, Any], args: argparse.Namespace, databases: Databases) -> None:
    print(
        f"\n{os.cpu_count()} CPU core(s), load average {args.load_before} before the run; "
        f"database: {databases.kind}; one uvicorn worker per server; load from {args.client} "
        f"with {args.concurrency} connections, {args.duration}s per sample, median of "
        f"{args.rounds} interleaved rounds"
    )
    print(
        f"{'figure':<28}{'server':<18}{'rate/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'CPU ms':>8}"
        "  rate vs bare / target; bare's CPU per request over this one's"
    )
    if "http" in figures:
        _report_http(figures["http"])
    if "webhooks" in figures:
        _report_webhooks(figures["webhooks"])
    if "receivers" in figures:
        _report_receivers(figures["receivers"])


def _row(figure: str, server: str, row: dict[str, Any], verdict: str) -> None:
    cpu = f"{row['cpu_ms']:>8.3f}" if "cpu_ms" in row else f"{'':>8}"
    print(
        f"{figure:<28}{server:<18}{row['rps']:>8.0f}{row['p50']:>8.2f}{row['p99']:>8.2f}{cpu}"
        f"  {verdict}"
    )


def _cpu_versus(row: dict[str, Any], bare: dict[str, Any]) -> str:
    if "cpu_ms" not in row or not row["cpu_ms"]:
        return ""
    return f"; CPU {bare['cpu_ms'] / row['cpu_ms']:.2f}x"


def _versus(ratio: float, target: float) -> str:
    return f"{ratio:.2f}x {'ok' if ratio >= target else 'MISSED'} (≥ {target}x)"


def _report_http(http: dict[tuple[str, str], dict[str, Any]]) -> None:
    for kind in KINDS:
        bare = http[(kind, "bare")]
        for role in ROLES_OF[kind]:
            row = http[(kind, role)]
            target = TARGETS["cold list-lots" if role == "buyer-nocache" else kind]
            versus = _versus(row["rps"] / bare["rps"], target) + _cpu_versus(row, bare)
            _row(kind, role, row, "" if role == "bare" else versus)


def _report_webhooks(hooks: dict[str, Any]) -> None:
    for name, (rate, cpu_ms) in hooks["rates"]:
        verdict = f"{'ok' if rate >= DELIVERY_TARGET else 'MISSED'} (≥ {DELIVERY_TARGET:.0f}/s)"
        print(f"{'dispatcher: ' + name:<46}{rate:>8.0f}{'':>16}{cpu_ms:>8.3f}  {verdict}")
    latency = hooks["latency"]
    verdict = f"{'ok' if latency['p99'] < LATENCY_TARGET_MS else 'MISSED'} (p99 < 50 ms)"
    _row("dispatcher: commit→arrival", "unloaded", latency, verdict)


def _report_receivers(found: dict[str, dict[str, Any]]) -> None:
    bare, producer = found["bare-hmac"], found["producer"]
    _row("signed webhooks received", "bare-hmac", bare, "")
    versus = _versus(producer["rps"] / bare["rps"], TARGETS["receivers"])
    _row("signed webhooks received", "producer", producer, versus + _cpu_versus(producer, bare))
    errors = sum(row["errors"] for row in found.values())
    if errors:
        print(f"  ({errors} deliveries were not answered 2xx)")


def _load_average() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per HTTP sample")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of samples")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent HTTP connections")
    parser.add_argument("--events", type=int, default=2000, help="webhook events to deliver")
    parser.add_argument("--client", choices=("httpx", "raw"), default="raw", help="load generator")
    parser.add_argument("--postgres", metavar="URL", help="run the portals on this PostgreSQL")
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections, comma-separated")
    args = parser.parse_args(argv)
    sections = [s for s in args.only.split(",") if s]
    if not set(sections) <= set(SECTIONS):
        parser.error(f"--only takes {', '.join(SECTIONS)}; got {args.only!r}")
    args.load_before = _load_average()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s); measuring…", flush=True)
    with tempfile.TemporaryDirectory(prefix="lotflow-bench-") as workdir:
        databases = Databases(Path(workdir), args.postgres)
        try:
            figures = _measure(sections, args, databases, Path(workdir))
        finally:
            databases.drop_all()
    report(figures, args, databases)
    return 0


def _measure(
    sections: list[str], args: argparse.Namespace, databases: Databases, folder: Path
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    if "http" in sections:
        figures["http"] = measure_http(args, databases, folder)
    if "webhooks" in sections:
        figures["webhooks"] = measure_webhooks(args, databases)
    if "receivers" in sections:
        figures["receivers"] = measure_receivers(args, databases)
    return figures


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
