"""Provider verification: the reference buyer honours both pacts; broken buyers fail them, with
the failing interaction named and what did not match."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from lotflow.pact.verify import verify_buyer
from tests.contracts.broken import (
    dropping_member,
    skipping_auth,
    webhooks_dropping,
    webhooks_losing,
)
from tests.contracts.provider_side import (
    HTTP_PACT,
    MESSAGE_PACT,
    reference_buyer,
    reference_buyer_over_the_network,
)


def _count(pact: Path) -> int:
    return len(json.loads(pact.read_text())["interactions"])


def test_the_reference_buyer_honours_both_pacts(tmp_path: Path) -> None:
    with reference_buyer(tmp_path) as target:
        report = verify_buyer(target, [HTTP_PACT, MESSAGE_PACT])
    http, messages = report.pacts
    assert report.passed, report.to_json()
    assert [len(http.interactions), len(messages.interactions)] == [
        _count(HTTP_PACT),
        _count(MESSAGE_PACT),
    ]
    assert all(i.passed for i in (*http.interactions, *messages.interactions))


LOSING_COUNTER_OFFER = partial(webhooks_losing, event="bid.counter_offer", member="counterOffer")


@pytest.mark.parametrize(
    ("broken", "pact", "description", "evidence"),
    [
        pytest.param(
            {"wrap": dropping_member("GET", r"/api/lots/external/[0-9a-f]{24}", "lot/version")},
            HTTP_PACT, "a request for a published lot", "version", id="lot answer without version",
        ),
        pytest.param(
            {"wrap": skipping_auth}, HTTP_PACT,
            "a request for the published lots without an API key", "401", id="key check skipped",
        ),
        pytest.param(
            {"webhooks": LOSING_COUNTER_OFFER}, MESSAGE_PACT,
            "a bid.counter_offer webhook", "counterOffer", id="webhook without member",
        ),
    ],
)  # fmt: skip
def test_a_broken_buyer_fails_the_interaction_it_breaks(
    broken: dict[str, Any], pact: Path, description: str, evidence: str, tmp_path: Path
) -> None:
    """Only the broken interaction fails, named, with what did not match."""
    with reference_buyer(tmp_path, **broken) as target:
        [result] = verify_buyer(target, [pact]).pacts
    [failed] = result.failed()
    assert failed.description == description
    assert any(evidence in m for m in failed.mismatches), failed.mismatches


def test_a_buyer_that_never_sends_a_webhook_fails_that_message(tmp_path: Path) -> None:
    dropping = partial(webhooks_dropping, event="bid.rejected")
    with reference_buyer(tmp_path, webhooks=dropping) as target:
        target.message_timeout = 0.5
        [messages] = verify_buyer(target, [MESSAGE_PACT]).pacts
    [failed] = messages.failed()
    assert failed.description == "a bid.rejected webhook"
    assert any("sent no bid.rejected webhook" in m for m in failed.mismatches), failed.mismatches


def test_a_state_lotflow_does_not_know_fails_its_interaction_by_name(tmp_path: Path) -> None:
    data = json.loads(HTTP_PACT.read_text())
    [read] = [
        i for i in data["interactions"] if i["description"] == "a request for a published lot"
    ]
    read["providerStates"] = [{"name": "a lot on the moon exists"}]
    moon = tmp_path / "moon.json"
    moon.write_text(json.dumps(data))
    with reference_buyer(tmp_path) as target:
        [http] = verify_buyer(target, [moon]).pacts
    [failed] = http.failed()
    assert failed.description == "a request for a published lot"
    assert any("a lot on the moon exists" in m for m in failed.mismatches), failed.mismatches


def test_the_documented_broker_verification_builds_offline() -> None:
    """contracts/README.md's broker snippet: the same calls, configured without a network."""
    from pact import Verifier

    from lotflow.pact.verify import BuyerTarget, state_endpoint
    from tests.contracts.provider_side import credentials

    target = BuyerTarget("http://127.0.0.1:3004", credentials())
    with state_endpoint(target) as state_url:
        verifier = (
            Verifier("buyer-portal", host="127.0.0.1")
            .add_transport(url=target.base_url)
            .state_handler(state_url, body=True)
            .broker_source("http://broker.invalid", token="t", selector=True, use_env=False)
            .consumer_version(main_branch=True)
            .consumer_version(deployed_or_released=True)
            .include_pending()
            .build()
            .set_publish_options(version="0123abc", branch="main")
        )
    assert str(verifier) == "Verifier(buyer-portal)"


def test_messages_verify_from_webhooks_received_over_the_network(tmp_path: Path) -> None:
    """The live path: the buyer's own dispatcher posts each signed webhook to lotflow's receiver."""
    with reference_buyer_over_the_network(tmp_path) as target:
        [messages] = verify_buyer(target, [MESSAGE_PACT]).pacts
    assert messages.passed, messages
    assert len(messages.interactions) == _count(MESSAGE_PACT)
    assert {w.path for w in target.inbox.received} == {  # type: ignore[union-attr]
        "/api/webhooks/lots",
        "/api/webhooks/bids",
        "/api/webhooks/contracts",
    }


def test_a_buyer_on_another_host_still_gets_its_messages_from_the_local_relay(
    tmp_path: Path,
) -> None:
    """HTTP interactions go to the buyer's host, message interactions to the relay on this
    machine (127.0.0.2 is another address of the loopback interface)."""
    with reference_buyer(tmp_path, host="127.0.0.2") as target:
        report = verify_buyer(target, [HTTP_PACT, MESSAGE_PACT])
    assert target.base_url.startswith("http://127.0.0.2:")
    assert report.passed, report.to_json()
