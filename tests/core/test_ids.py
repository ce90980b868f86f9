"""Ids: entity ids shaped like today's portals' ObjectIds, event ids like Standard Webhooks'."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from lotflow.ids import is_object_id, new_event_id, new_object_id

EVENT_ID = re.compile(r"msg_[0-9A-Za-z]{27}")
SPEC_EVENT_ID = re.compile(r"^msg_[A-Za-z0-9]{10,64}$")  # the EventId pattern of the contract


def test_an_object_id_is_24_lowercase_hex_starting_with_its_seconds() -> None:
    ident = new_object_id(0x6750A1C2)
    assert re.fullmatch(r"[0-9a-f]{24}", ident)
    assert ident.startswith("6750a1c2")


def test_an_object_id_without_seconds_uses_the_current_time() -> None:
    assert int(new_object_id()[:8], 16) > 0x6750A1C2  # later than 2024-12


def test_object_ids_made_in_the_same_second_never_repeat() -> None:
    ids = {new_object_id(1_764_063_000) for _ in range(20_000)}
    assert len(ids) == 20_000


def test_object_ids_made_by_concurrent_threads_never_repeat() -> None:
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda _: new_object_id(1_764_063_000), range(8_000)))
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("6750a1c2e4b0f1a2b3c4d5e6", True),
        ("6750A1C2E4B0F1A2B3C4D5E6", False),
        ("6750a1c2e4b0f1a2b3c4d5e", False),
        ("6750a1c2e4b0f1a2b3c4d5e6f", False),
        ("6750a1c2e4b0f1a2b3c4d5eg", False),
        ("", False),
        (None, False),
        (12, False),
    ],
)
def test_is_object_id_accepts_exactly_24_lowercase_hex_strings(
    value: object, expected: bool
) -> None:
    assert is_object_id(value) is expected


def test_an_event_id_is_msg_and_27_base62_characters_the_contract_accepts() -> None:
    for _ in range(200):
        ident = new_event_id()
        assert EVENT_ID.fullmatch(ident), ident
        assert SPEC_EVENT_ID.match(ident)


def test_event_ids_do_not_repeat() -> None:
    assert len({new_event_id() for _ in range(20_000)}) == 20_000


def test_restart_makes_the_following_ids_a_reproducible_sequence() -> None:
    from lotflow.ids import restart

    def sequence() -> list[str]:
        return [new_object_id(1_700_000_000) for _ in range(3)] + [new_event_id() for _ in range(2)]

    try:
        restart(7)
        first = sequence()
        restart(7)
        assert sequence() == first
        restart(8)
        other = sequence()
    finally:
        restart(None)
    assert other != first
    assert all(is_object_id(i) for i in other[:3])
    assert len(set(first)) == 5
    assert sequence() != first  # random again
