"""Consumer tests of the message pact: every webhook event of the buyer spec, handled by the
reference producer's own receiver (signed, delivered in-process), checked by its effect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pact import Pact
from pact.error import PactVerificationError

from lotflow.openapi import load_portal_spec, webhooks
from lotflow.pact.names import CONSUMER, MESSAGE_PROVIDER, pact_file
from tests.contracts.message_pact import CAUSES, EVENTS, declare, description, run_message


def test_every_webhook_event_of_the_spec_has_a_message() -> None:
    assert set(EVENTS) == set(webhooks(load_portal_spec("buyer")))
    assert set(CAUSES) == set(EVENTS)


@pytest.mark.parametrize("event", EVENTS)
def test_the_producer_handles_the_message(event: str, tmp_path: Path) -> None:
    run_message(event, tmp_path, tmp_path / "pacts")
    written = json.loads(pact_file(tmp_path / "pacts", MESSAGE_PROVIDER).read_text())
    [message] = written["interactions"]
    assert message["description"] == description(event)
    assert message["contents"]["content"]["event"] == event
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(message["metadata"])


def test_a_message_the_producer_cannot_apply_fails_the_consumer_test(tmp_path: Path) -> None:
    """The handler is the check: a receiver that refuses the message fails it by name."""
    pact = Pact(CONSUMER, MESSAGE_PROVIDER).with_specification("V4")
    declare(pact, "bid.accepted")

    def refusing(_body: object, _metadata: dict[str, object]) -> None:
        raise AssertionError("the receiver answered 401")

    with pytest.raises(PactVerificationError) as failed:
        pact.verify(refusing, "Async")
    [error] = failed.value.errors
    assert error.description == description("bid.accepted")
    assert "401" in str(error.error)
