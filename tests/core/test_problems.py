"""RFC 9457 problems: the document on the wire and the shortcuts that build them."""

from __future__ import annotations

import json

import pytest

from lotflow.problems import FieldError, Problem


def test_a_problem_document_has_the_standard_members_and_a_stable_code() -> None:
    problem = Problem(409, "Conflict", "Lot is sold.", "lot_not_open")
    assert problem.to_dict("/api/bids") == {
        "type": "https://lotflow.dev/problems/lot_not_open",
        "title": "Conflict",
        "status": 409,
        "detail": "Lot is sold.",
        "instance": "/api/bids",
        "code": "lot_not_open",
    }


def test_extension_members_are_added_but_never_replace_standard_ones() -> None:
    problem = Problem(409, "Conflict", "x", "c", extra={"currentState": "sold", "status": 200})
    body = problem.to_dict()
    assert body["currentState"] == "sold"
    assert body["status"] == 409


def test_field_errors_are_listed_under_errors() -> None:
    problem = Problem.validation([FieldError("/volume/amount", "must be greater than 0")])
    assert problem.to_dict()["errors"] == [
        {"field": "/volume/amount", "message": "must be greater than 0"}
    ]


def test_an_explicit_type_uri_is_kept() -> None:
    problem = Problem(400, "Bad", type="https://example.com/bad")
    assert problem.to_dict()["type"] == "https://example.com/bad"


def test_the_response_is_problem_json_with_the_status() -> None:
    response = Problem.not_found("lot", "6750a1c2e4b0f1a2b3c4d5e6").to_response("/api/lots/x")
    assert response.status_code == 404
    assert response.media_type == "application/problem+json"
    body = json.loads(bytes(response.body))
    assert body["instance"] == "/api/lots/x"
    assert body["code"] == "not_found"
    assert "6750a1c2e4b0f1a2b3c4d5e6" in body["detail"]


def test_a_problem_is_an_exception_whose_message_is_its_detail() -> None:
    with pytest.raises(Problem, match="nothing here") as caught:
        raise Problem(404, "Not found", "nothing here", "not_found")
    assert caught.value.status == 404


@pytest.mark.parametrize(
    ("problem", "status", "code", "title"),
    [
        (Problem.not_found("bid", "1"), 404, "not_found", "Not found"),
        (
            Problem.conflict("illegal_transition", "no"),
            409,
            "illegal_transition",
            "Illegal state transition",
        ),
        (
            Problem.conflict("duplicate_external_bid", "no"),
            409,
            "duplicate_external_bid",
            "Conflict",
        ),
        (
            Problem.validation([FieldError("/a", "bad")]),
            422,
            "validation_failed",
            "Request validation failed",
        ),
        (Problem.bad_request("bad"), 400, "bad_request", "Bad request"),
        (Problem.unauthorized("who are you?"), 401, "unauthorized", "Unauthorized"),
        (Problem.payload_too_large(1024), 413, "payload_too_large", "Payload too large"),
        (
            Problem.unsupported_media_type("text/plain", "application/json"),
            415,
            "unsupported_media_type",
            "Unsupported media type",
        ),
    ],
)
def test_shortcuts_set_status_code_and_title(
    problem: Problem, status: int, code: str, title: str
) -> None:
    assert (problem.status, problem.code, problem.title) == (status, code, title)
    assert problem.to_dict()["type"].endswith("/" + code)


def test_a_conflict_carries_its_extension_members() -> None:
    problem = Problem.conflict("illegal_transition", "Bid is accepted.", currentState="accepted")
    assert problem.to_dict()["currentState"] == "accepted"


def test_a_validation_problem_summarises_its_field_errors_in_the_detail() -> None:
    problem = Problem.validation(
        [FieldError("/name", "is required"), FieldError("/age", "must be at least 0")]
    )
    assert problem.detail == "/name is required; /age must be at least 0"
    assert Problem.validation([], code="volume_exceeds_lot").code == "volume_exceeds_lot"


def test_domain_refusals_become_the_problems_a_client_acts_on() -> None:
    from lotflow.errors import (
        DomainError,
        FieldError,
        IllegalTransitionError,
        NotFoundError,
        RuleError,
    )

    missing = Problem.from_error(NotFoundError("lot", "abc"))
    assert (missing.status, missing.code, missing.detail) == (
        404,
        "not_found",
        "No lot with id 'abc' is visible to you.",
    )
    illegal = Problem.from_error(
        IllegalTransitionError("Bid x is accepted.", current="accepted", operation="counterBid")
    ).to_dict()
    assert illegal["status"] == 409
    assert illegal["code"] == "illegal_transition"
    assert (illegal["currentState"], illegal["operation"]) == ("accepted", "counterBid")
    broken = Problem.from_error(RuleError([FieldError("/pricing/price", "too high")], "bad_price"))
    assert (broken.status, broken.code, [e.field for e in broken.errors]) == (
        422,
        "bad_price",
        ["/pricing/price"],
    )
    other = Problem.from_error(DomainError("Not like this.", "odd", hint="x")).to_dict()
    assert (other["status"], other["code"], other["hint"]) == (400, "odd", "x")
