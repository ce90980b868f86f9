"""Fault schedules, Jepsen-style: N events committed by the buyer under each schedule of faults
between it and the producer, and what became of them — committed, delivered, lost, delivered
more than once, applied more than once.

``python -m lotflow.explore.schedules [N]`` (``nox -s schedules``) prints the table. Both
reference portals run in-process (:class:`~lotflow.explore.inprocess.InProcessPair`) with the
buyer's default retry budget, so a long outage shows what that budget loses.
"""

from __future__ import annotations

import logging
import math
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lotflow.explore.checks import was_applied
from lotflow.explore.inprocess import InProcessPair
from lotflow.explore.network import Fault

__all__ = ["SCHEDULES", "Figures", "main", "run_schedule"]

LOT = {
    "title": "Schedule lot",
    "type": "HEFA-SPK",
    "volume": {"amount": 1000, "unit": "gallons"},
    "pricing": {"price": 6500, "currency": "USD", "pricePerUnit": 6.5},
}


@dataclass(frozen=True)
class Figures:
    """What became of the events of one schedule."""

    schedule: str
    committed: int
    delivered: int
    lost: int
    redelivered: int
    applied_twice: int
    producer_agrees: int


def _outage(hours: float, every: float = 600) -> Callable[[InProcessPair], None]:
    def plan(pair: InProcessPair) -> None:
        pair.set_receiver(False)
        for _ in range(math.ceil(hours * 3600 / every)):  # a sender pass every ``every`` s
            pair.advance(every)
            pair.dispatch(Fault.NONE)
        pair.set_receiver(True)

    return plan


def _crash_after_commit(pair: InProcessPair) -> None:
    pair.restart_buyer()  # committed, nothing sent yet: the outbox survives the restart
    pair.dispatch(Fault.NONE)


def _killed_mid_send(pair: InProcessPair) -> None:
    for _ in range(3):
        pair.dispatch(Fault.KILL_SENDER)
        pair.advance(120)  # the dead sender's leases lapse


def _duplicates(pair: InProcessPair) -> None:
    pair.dispatch(Fault.DUPLICATE)
    while pair.release(0):
        pass


def _reorder(pair: InProcessPair) -> None:
    pair.dispatch(Fault.DELAY)
    while pair.release(-1):  # the newest held copy first
        pass


def _resets(pair: InProcessPair) -> None:
    for fault in (Fault.DROP, Fault.LOST_ANSWER, Fault.DROP):
        pair.dispatch(fault)
        pair.advance(60)


SCHEDULES: dict[str, Callable[[InProcessPair], None]] = {
    "clean": lambda pair: pair.dispatch(Fault.NONE),
    "receiver down 10 min": _outage(1 / 6),
    "receiver down 12 h": _outage(12),
    "receiver down 3 days": _outage(72, every=3600),
    "sender crash after commit": _crash_after_commit,
    "sender killed mid-send": _killed_mid_send,
    "duplicates": _duplicates,
    "reorder": _reorder,
    "connection resets": _resets,
}


def run_schedule(name: str, events: int, workdir: Path) -> Figures:
    """Commit ``events`` lot.published events, play schedule ``name``, then let the buyer
    deliver what it still owes; count."""
    pair = InProcessPair(workdir, max_attempts=None)  # the buyer's own retry budget
    try:
        lot_ids = [_publish(pair) for _ in range(events)]
        SCHEDULES[name](pair)
        pair.settle()
        committed = int(pair.buyer("listWebhookDeliveries", query={"limit": 1}).json()["count"])
        seen = pair.log.since(0)
        delivered = {d.webhook_id for d in seen if d.delivered}
        applied = Counter(d.webhook_id for d in seen if d.delivered and was_applied(d))
        agrees = sum(_is_open(pair, lot_id) for lot_id in lot_ids)
        return Figures(
            name,
            committed,
            len(delivered),
            committed - len(delivered),
            sum(1 for d in seen if d.delivered) - len(delivered),
            sum(1 for n in applied.values() if n > 1),
            agrees,
        )
    finally:
        pair.close()


def _publish(pair: InProcessPair) -> str:
    lot_id = str(pair.buyer("createLot", body=LOT).json()["lot"]["_id"])
    pair.buyer("publishLot", path={"lotId": lot_id})
    return lot_id


def _is_open(pair: InProcessPair, lot_id: str) -> bool:
    answer = pair.producer(pair.aliases[0], "getMarketplaceLot", path={"lotId": lot_id})
    return answer.status_code == 200 and answer.json()["lot"]["status"] == "open"


def main(argv: list[str] | None = None) -> int:
    quiet = logging.getLogger("lotflow.reference")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # the losses are counted in the table, not logged
    try:
        return _print_table(argv if argv is not None else sys.argv[1:])
    finally:
        quiet.setLevel(level)


def _print_table(args: list[str]) -> int:
    events = int(args[0]) if args else 200
    header = ("schedule", "committed", "delivered", "lost", "redelivered", "applied 2x", "agree")
    print(f"{events} lot.published events per schedule; the reference buyer's retry defaults")
    print("".join(f"{h:>28}" if i == 0 else f"{h:>12}" for i, h in enumerate(header)))
    with tempfile.TemporaryDirectory() as tmp:
        for index, name in enumerate(SCHEDULES):
            folder = Path(tmp) / str(index)
            folder.mkdir()
            f = run_schedule(name, events, folder)
            row = (f.committed, f.delivered, f.lost, f.redelivered, f.applied_twice)
            cells = "".join(f"{v:>12}" for v in row) + f"{f.producer_agrees:>9}/{events}"
            print(f"{name:>28}{cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
