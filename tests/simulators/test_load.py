"""The buyer simulator as a load generator: every webhook signed, sent and recorded."""

from __future__ import annotations

import asyncio
import json

import pytest
from lotflow.simulators import BuyerSimulator
from lotflow.simulators.load import SpreadTransport, StreamTransport, send_webhooks

from lotflow.clock import SystemClock
from lotflow.serving import ServerThread
from lotflow.signing import WebhookVerifier
from tests.simulators.receiver import RecordingReceiver


@pytest.mark.parametrize("transport", [StreamTransport, SpreadTransport], ids=["streams", "httpx"])
def test_a_burst_of_signed_webhooks_arrives_whole(transport: type) -> None:
    receiver = RecordingReceiver()
    with ServerThread(receiver.app) as server:
        sim = BuyerSimulator(server.url, dispatcher_enabled=False, transport=transport())
        sim.use_faults(json.dumps({"webhooks": [{"fault": "duplicate", "times": 5}]}))
        try:
            result = asyncio.run(send_webhooks(sim, 60, concurrency=8))
        finally:
            sim.stop()
        arrivals = receiver.wait_for(65)
    assert (result.sent, result.answers) == (60, {"200": 60})
    assert result.per_second > 0
    assert len(arrivals) == 65
    assert len({a.webhook_id for a in arrivals}) == 60
    verifier = WebhookVerifier([sim.secret], SystemClock())
    assert all(verifier.verify(a.headers, a.body) == a.webhook_id for a in arrivals)
    assert len(sim.exchanges()) == 65
