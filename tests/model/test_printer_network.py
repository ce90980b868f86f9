"""How the printer writes the network, on hand-made step lists: a pass's fault set where its
events began and waited for at the pass, a killed sender played as a lost answer, the waits
dropped once time may have fired an expiry, and a running buyer's fault set where it was."""

from __future__ import annotations

from typing import Any

import yaml

from lotflow.explore.printer import print_scenario
from lotflow.explore.steps import Sent, Step

PUBLISHED = Sent("lot.published", "msg_1", "lot", "lot_1", 2, True, True, False)
AGAIN = Sent("lot.published", "msg_1", "lot", "lot_1", 2, True, False, True)


def call(title: str, body: Any = None) -> Step:
    return Step("call", title, "buyer", "publishLot", {"lotId": "${lot_1}"}, body, 200)


def network(fault: str, *sent: Sent, from_now: bool = False) -> Step:
    step = Step("network", f"A pass ({fault})", call=f"deliver:{fault}", fault=fault)
    step.sent, step.from_now = list(sent), from_now
    return step


def settle(*repeats: Sent) -> Step:
    step = Step("settle", "Settled")
    step.agree, step.repeats = [("lot", "lot_1")], list(repeats)
    return step


def steps_of(text: str) -> list[dict[str, Any]]:
    return list(yaml.safe_load(text)["steps"])


def test_a_passs_fault_is_set_before_its_events_and_waited_for_at_the_pass() -> None:
    text = print_scenario(
        [call("Publish"), network("duplicate", PUBLISHED), settle(AGAIN)], name="n", description=""
    )
    fault, publish, at_pass, deliver, release, settled = steps_of(text)
    assert fault["network"] == {"fault": "duplicate"}
    assert publish["call"] == "publishLot"
    hook = at_pass["wait"]["webhooks"][0]
    assert hook == {"event": "lot.published", "match": PUBLISHED.match(), "delivered": True}
    assert PUBLISHED.match() == {"/lot/_id": "${lot_1}", "/lot/version": 2}
    assert (deliver["network"], release["network"]) == ({"fault": "deliver"}, {"release": "held"})
    (ack,) = settled["wait"]["webhooks"]
    assert ack["answer"] == {"/duplicate": True}
    assert [a["buyer"]["at"] for a in settled["wait"]["agree"]] == ["/lot/status", "/lot/version"]


def test_a_killed_sender_is_said_and_played_as_its_answer_lost() -> None:
    text = print_scenario(
        [call("Publish"), network("kill-sender", PUBLISHED), settle(AGAIN)],
        name="n",
        description="",
    )
    assert (
        "(not replayed: needs control of the buyer's process; the network loses its answers" in text
    )
    assert steps_of(text)[0]["network"] == {"fault": "lost-answer"}
    assert steps_of(text)[-1]["wait"]["webhooks"][0]["answer"] == {"/duplicate": True}


def test_once_time_may_have_fired_an_expiry_the_passes_are_not_waited_for() -> None:
    expiring = call("Counter, expiring", {"expiresAt": "${now+60s}"})
    time = Step("control", "300 seconds pass", call="time")
    text = print_scenario(
        [expiring, time, network("duplicate", PUBLISHED), settle(AGAIN)], name="n", description=""
    )
    assert "(no check: an expiry may have fired by now)" in text
    assert "answer" not in text
    calm = print_scenario(
        [call("Publish"), time, network("duplicate", PUBLISHED), settle(AGAIN)],
        name="n",
        description="",
    )
    assert "(no check" not in calm  # no expiry was set: passing time only moves retries
    assert "(no step needed: no expiry is set" in calm
    assert "(not replayed: an expiry may fire" in text


def test_a_running_buyers_fault_is_set_where_it_was_once_the_last_one_was_met() -> None:
    text = print_scenario(
        [call("Publish"), network("delay", PUBLISHED, from_now=True), settle()],
        name="n",
        description="",
        within="3s",
    )
    publish, met, fault, *_ = steps_of(text)
    assert publish["call"] == "publishLot"
    assert met["title"] == "The webhooks sent so far met the network (deliver)"
    assert met["wait"]["webhooks"][0]["within"] == "3s"
    assert fault["network"] == {"fault": "delay"}
