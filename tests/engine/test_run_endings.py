"""The engine's event model: every event names its run and moment, is built by keyword, and a
run always ends with one event that says how (finished, interrupted or errored)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lotflow.engine import events as ev
from lotflow.engine.checks import ConfigurationStop
from lotflow.engine.loader import load_scenario
from lotflow.engine.runner import Runner
from tests.engine.fakes import KNOWN, FakeMarketplace
from tests.engine.test_runner import ACCEPT, OPENING

Write = Callable[..., Path]

WAITS_FOR_PUBLISHED = """\
name: A check that has to wait
steps:
  - id: create-lot
    title: The buyer drafts a lot
    actor: buyer
    call: createLot
    body: {title: "Lot", deliveryDate: "${now+7d}", volume: {amount: 1000}}
    save: {lot_id: /lot/_id}
    state:
      - {party: buyer, call: getLot, path: {lotId: "${lot_id}"}, expect: {/lot/status: published}}
"""


def collect(runner: Runner, path: Path) -> tuple[list[ev.Event], BaseException | None]:
    events: list[ev.Event] = []
    try:
        with runner:
            for event in runner.run([load_scenario(path, KNOWN)]):
                events.append(event)
    except BaseException as exc:  # noqa: BLE001 - the test looks at what was raised
        return events, exc
    return events, None


def test_every_event_names_its_run_and_moment_and_step_events_their_step(
    market: FakeMarketplace, write: Write
) -> None:
    events, raised = collect(market.runner(run_id="r9"), write(OPENING + ACCEPT))
    assert raised is None
    assert all(isinstance(e, ev.EngineEvent) and e.run_id == "r9" and e.at for e in events)
    steps = [e for e in events if isinstance(e, ev.StepEvent)]
    assert {(e.slug, e.step_id) for e in steps} == {
        ("story", s) for s in ("create-lot", "publish", "bid", "accept")
    }
    assert all(e.scenario == "A lot is published and a producer bids" for e in steps)
    assert isinstance(events[-1], ev.RunFinished)
    assert events[-1].complete


def test_events_and_step_results_are_built_by_keyword_only() -> None:
    with pytest.raises(TypeError):
        ev.StepResult("s", "slug", "id", "title", "call", "buyer", 1, "passed")  # type: ignore[misc]
    with pytest.raises(TypeError):
        ev.RunStarted("r1", "now", ("s",), {}, 1)  # type: ignore[misc]


def test_ctrl_c_while_a_check_waits_ends_the_run_with_run_interrupted_naming_the_step(
    market: FakeMarketplace, write: Write
) -> None:
    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    events, raised = collect(market.runner(pause=interrupt), write(WAITS_FOR_PUBLISHED))
    assert isinstance(raised, KeyboardInterrupt)
    ended = events[-1]
    assert isinstance(ended, ev.RunInterrupted)
    assert (ended.scenario, ended.step_id, ended.exit_code, ended.ok) == (
        "A check that has to wait",
        "create-lot",
        130,
        False,
    )
    assert ended.summary.passed == 0
    assert not ended.complete


def test_a_configuration_stop_ends_the_run_with_run_errored_naming_the_setting(
    market: FakeMarketplace, write: Write
) -> None:
    def misconfigured(_seconds: float) -> None:
        raise ConfigurationStop("the webhooks go elsewhere", "PRODUCER_DASHBOARD_WEBHOOK_URL")

    events, raised = collect(market.runner(pause=misconfigured), write(WAITS_FOR_PUBLISHED))
    assert raised is None
    ended = events[-1]
    assert isinstance(ended, ev.RunErrored)
    assert (ended.kind, ended.setting, ended.exit_code) == (
        "configuration",
        "PRODUCER_DASHBOARD_WEBHOOK_URL",
        2,
    )
    assert ended.message == "the webhooks go elsewhere"


def test_an_unexpected_error_is_reported_as_run_errored_then_raised(
    market: FakeMarketplace, write: Write
) -> None:
    def broken(_seconds: float) -> None:
        raise ZeroDivisionError("boom")

    events, raised = collect(market.runner(pause=broken), write(WAITS_FOR_PUBLISHED))
    assert isinstance(raised, ZeroDivisionError)
    ended = events[-1]
    assert isinstance(ended, ev.RunErrored)
    assert (ended.kind, ended.message) == ("internal", "ZeroDivisionError: boom")
