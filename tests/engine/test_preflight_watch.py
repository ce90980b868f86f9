"""The webhook-route watch during a run: a buyer whose webhooks never reach the tap stops the
run as a configuration error at the first webhook deadline, not as a string of contract
failures; a working route is left alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from lotflow.clock import SystemClock
from lotflow.engine import events as ev
from lotflow.engine.loader import load_scenario
from lotflow.engine.preflight import Preflight
from lotflow.openapi import load_portal_spec
from tests.engine.fakes import KNOWN, OPERATIONS, FakeMarketplace
from tests.engine.test_runner import OPENING

Write = Callable[..., Path]
TAP = "http://tap.test"
TWO_STORIES = OPENING.replace("within: 5s", "within: 1s")


def watched_run(market: FakeMarketplace, path: Path) -> list[ev.Event]:
    specs = {p: load_portal_spec(p) for p in ("buyer", "producer")}
    with httpx.Client(transport=httpx.MockTransport(market.route)) as client:
        preflight = Preflight(market.parties(), OPERATIONS, specs, client, SystemClock())
        runner = market.runner(
            watch=lambda seen, expired: preflight.watch_webhooks(TAP, seen, expired)
        )
        scenario = load_scenario(path, KNOWN)
        with runner:
            return list(runner.run([scenario, scenario]))


def test_webhooks_that_never_reach_the_tap_stop_the_run_at_the_first_deadline(
    write: Write,
) -> None:
    silent = FakeMarketplace()  # its dispatcher never runs: no webhook ever reaches the tap
    events = watched_run(silent, write(TWO_STORIES))
    ended = events[-1]
    assert isinstance(ended, ev.RunErrored)
    assert ended.setting == "PRODUCER_DASHBOARD_WEBHOOK_URL"
    assert "no webhook reached lotflow's webhook tap at http://tap.test" in ended.message
    assert sum(isinstance(e, ev.ScenarioStarted) for e in events) == 1  # the second never ran
    assert not any(isinstance(e, ev.StepFailed) for e in events)  # no contract failure claimed


def test_a_working_webhook_route_is_left_alone(market: FakeMarketplace, write: Write) -> None:
    events = watched_run(market, write(TWO_STORIES))
    ended = events[-1]
    assert isinstance(ended, ev.RunFinished)
    assert ended.ok
