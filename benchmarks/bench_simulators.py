"""Signed webhooks per second the buyer simulator sends to a local receiver, faults off and on.

    python benchmarks/bench_simulators.py [--events 3000] [--concurrency 32] [--rounds 3]

The receiver (a minimal ASGI app under uvicorn, one worker) runs in a process of its own on a
free port; the simulator sends from this process through its wire (each webhook signed, passed
through the fault plan, recorded, its answer checked against the spec). "faults on" injects,
each with probability 0.2, a duplicate, a bad signature and a delay of 0 ms, and an unknown
event type with probability 0.05. Rounds alternate off/on and the median is reported.
Target: ≥ 1,000 webhooks/s with faults off. Exit code 0 whether or not it is met.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

FAULTS_ON = {
    "seed": 11,
    "webhooks": [
        {"fault": "duplicate", "times": 0, "probability": 0.2},
        {"fault": "bad-signature", "times": 0, "probability": 0.2},
        {"fault": "delay", "ms": 0, "times": 0, "probability": 0.2},
        {"fault": "unknown-event", "times": 0, "probability": 0.05},
    ],
}
RECEIVER = """
import sys, uvicorn
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    body = b'{"received":true,"eventId":"x","duplicate":false,"applied":true}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
import socket
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
print(f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
"""


@contextmanager
def receiver() -> Iterator[str]:
    process = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(10)


def one_round(
    url: str, events: int, concurrency: int, faults: bool
) -> tuple[float, dict[str, int]]:
    from lotflow.simulators import BuyerSimulator
    from lotflow.simulators.load import StreamTransport, send_webhooks

    sim = BuyerSimulator(url, dispatcher_enabled=False, transport=StreamTransport())
    if faults:
        sim.use_faults(json.dumps(FAULTS_ON))
    try:
        result = asyncio.run(send_webhooks(sim, events, concurrency=concurrency))
    finally:
        sim.stop()
    return result.per_second, result.answers


def bare_round(url: str, events: int, concurrency: int) -> float:
    """The same posts through the same transport, with no simulator: the baseline."""
    import time

    import httpx
    from lotflow.simulators.load import StreamTransport

    body = b'{"event":"lot.published"}'

    async def run() -> float:
        slots = asyncio.Semaphore(concurrency)
        transport = StreamTransport()

        async def one() -> None:
            async with slots:
                request = httpx.Request("POST", url + "/api/webhooks/lots", content=body)
                response = await transport.handle_async_request(request)
                await response.aread()

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(events)))
        await transport.aclose()
        return events / (time.perf_counter() - started)

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rates: dict[bool, list[float]] = {False: [], True: []}
    bare: list[float] = []
    with receiver() as url:
        for _ in range(args.rounds):
            bare.append(bare_round(url, args.events, args.concurrency))
            print(f"  bare client: {bare[-1]:6.0f} posts/s (baseline: no signing, no simulator)")
            for faults in (False, True):
                rate, answers = one_round(url, args.events, args.concurrency, faults)
                rates[faults].append(rate)
                state = "on " if faults else "off"
                print(f"  faults {state}: {rate:7.0f} webhooks/s  answers {answers}")
    off, on = statistics.median(rates[False]), statistics.median(rates[True])
    base = statistics.median(bare)
    print(f"\nbare client baseline {base:.0f} posts/s; simulator/baseline {off / base:.2f}x")
    print(
        f"\nsigned webhooks/s from the buyer simulator ({args.events} per round, concurrency "
        f"{args.concurrency}, median of {args.rounds}): faults off {off:.0f}/s, "
        f"faults on {on:.0f}/s (on/off {on / off:.2f}); target ≥ 1,000/s with faults off: "
        f"{'met' if off >= 1000 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
