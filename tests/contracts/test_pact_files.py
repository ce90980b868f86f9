"""The committed pacts are what the consumer tests write, and every interaction agrees with the
OpenAPI documents (request, response, message and its signature headers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lotflow.pact.conformance import check_pact
from lotflow.pact.names import HTTP_PROVIDER, MESSAGE_PROVIDER, pact_file
from tests.contracts.generate import normalised, write_pacts

COMMITTED = Path(__file__).resolve().parents[2] / "contracts" / "pacts"
PACTS = [pact_file(COMMITTED, HTTP_PROVIDER), pact_file(COMMITTED, MESSAGE_PROVIDER)]


def test_the_committed_pacts_are_what_the_consumer_tests_write(tmp_path: Path) -> None:
    fresh = tmp_path / "pacts"
    work = tmp_path / "work"
    work.mkdir()
    write_pacts(fresh, work)
    assert sorted(p.name for p in fresh.glob("*.json")) == sorted(p.name for p in PACTS)
    for committed in PACTS:
        assert normalised(fresh / committed.name) == normalised(committed), (
            f"{committed} differs from what the consumer tests write: run "
            "`python -m tests.contracts.generate` (or `nox -s pacts`) and commit the result."
        )


@pytest.mark.parametrize("pact", PACTS, ids=lambda p: p.name)
def test_every_interaction_agrees_with_the_spec(pact: Path) -> None:
    assert check_pact(pact) == []


def _edited(source: Path, target: Path, description: str, edit: object) -> Path:
    data = json.loads(source.read_text())
    [interaction] = [i for i in data["interactions"] if i["description"] == description]
    edit(interaction)  # type: ignore[operator]
    target.write_text(json.dumps(data))
    return target


@pytest.mark.parametrize(
    ("pact", "description", "edit", "where"),
    [
        (
            HTTP_PROVIDER,
            "a bid submission",
            lambda i: i["request"]["body"]["content"].pop("lotId"),
            "request body",
        ),
        (
            HTTP_PROVIDER,
            "a bid submission",
            lambda i: i["request"]["body"]["content"].update(colour="red"),
            "request body",
        ),
        (
            HTTP_PROVIDER,
            "a request for a published lot",
            lambda i: i["response"]["body"]["content"]["lot"].pop("version"),
            "response 200 body",
        ),
        (
            HTTP_PROVIDER,
            "a request for a published lot",
            lambda i: i["response"].update(status=418),
            "response",
        ),
        (
            HTTP_PROVIDER,
            "a request for the published lots",
            lambda i: i["request"]["query"].update(sort=["price"]),
            "request query",
        ),
        (
            HTTP_PROVIDER,
            "a request for the published lots",
            lambda i: i["request"].update(path="/api/lots/everything"),
            "request",
        ),
        (
            MESSAGE_PROVIDER,
            "a bid.accepted webhook",
            lambda i: i["contents"]["content"]["bid"].update(status="won"),
            "message body",
        ),
        (
            MESSAGE_PROVIDER,
            "a lot.published webhook",
            lambda i: i["contents"]["content"].update(event="lot.archived"),
            "message body",
        ),
        (
            MESSAGE_PROVIDER,
            "a contract.created webhook",
            lambda i: i["metadata"].update({"webhook-signature": "sha256=abc"}),
            "metadata webhook-signature",
        ),
    ],
)
def test_a_pact_that_drifts_from_the_spec_is_found(
    pact: str, description: str, edit: object, where: str, tmp_path: Path
) -> None:
    broken = _edited(pact_file(COMMITTED, pact), tmp_path / "broken.json", description, edit)
    findings = check_pact(broken)
    assert [(f.interaction, f.where) for f in findings] == [(description, where)]


def test_every_provider_state_of_the_pacts_is_implemented() -> None:
    """lotflow sets up every state the consumers name, and names no state nobody uses."""
    from lotflow.pact.states import STATES

    used = {
        state["name"]
        for pact in PACTS
        for interaction in json.loads(pact.read_text())["interactions"]
        for state in interaction["providerStates"]
    }
    assert used == set(STATES)
