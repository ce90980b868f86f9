"""The one JSON-pointer walker: tokens escaped and unescaped as RFC 6901 says."""

from __future__ import annotations

import pytest

from lotflow.openapi.refs import lookup
from lotflow.pointers import MISSING, escape_token, pointer_tokens, resolve_pointer

DOC = {"paths": {"/lots/{id}": {"get": {"x~y": [10, None]}}}}


@pytest.mark.parametrize("token", ["plain", "/lots/{id}", "a~b", "~1", "~0/"])
def test_an_escaped_token_reads_back_as_itself(token: str) -> None:
    assert pointer_tokens("/" + escape_token(token)) == [token]


def test_a_pointer_walks_mappings_and_lists() -> None:
    pointer = "/paths/" + escape_token("/lots/{id}") + "/get/x~0y/0"
    assert resolve_pointer(DOC, pointer) == 10
    assert resolve_pointer(DOC, "") is DOC
    assert resolve_pointer(DOC, "/paths/nowhere") is MISSING


def test_the_spec_lookup_answers_none_where_the_pointer_leads_nowhere() -> None:
    assert lookup(DOC, "/paths/" + escape_token("/lots/{id}") + "/get/x~0y/1") is None
    assert lookup(DOC, "/paths/missing") is None
    assert lookup(DOC, "/paths") == DOC["paths"]
