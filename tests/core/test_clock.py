"""Clocks: the system clock is aware UTC; the fake clock moves only when told to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from lotflow.clock import Clock, FakeClock, SystemClock, isoformat
from lotflow.errors import ConfigError

START = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def test_system_clock_gives_aware_utc_time_and_a_monotonic_counter() -> None:
    clock = SystemClock()
    first = clock.monotonic()
    now = clock.now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
    assert clock.monotonic() >= first


def test_both_clocks_satisfy_the_clock_protocol() -> None:
    assert isinstance(SystemClock(), Clock)
    assert isinstance(FakeClock(), Clock)


def test_fake_clock_stands_still_until_advanced() -> None:
    clock = FakeClock(START)
    assert clock.now() == START
    assert clock.now() == START
    assert clock.monotonic() == 0.0


def test_fake_clock_advances_by_seconds_or_timedelta_and_monotonic_follows() -> None:
    clock = FakeClock(START)
    clock.advance(1.5)
    clock.advance(timedelta(minutes=1))
    assert clock.now() == START + timedelta(seconds=61.5)
    assert clock.monotonic() == pytest.approx(61.5)


def test_fake_clock_set_jumps_and_its_monotonic_counter_never_goes_back() -> None:
    clock = FakeClock(START)
    clock.set(START + timedelta(hours=1))
    assert clock.monotonic() == pytest.approx(3600)
    clock.set(START)
    assert clock.now() == START
    assert clock.monotonic() == pytest.approx(3600)


def test_fake_clock_converts_other_zones_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    clock = FakeClock(datetime(2026, 11, 25, 10, 30, tzinfo=paris))
    assert clock.now() == START
    assert clock.now().tzinfo == UTC


def test_fake_clock_has_a_fixed_default_start() -> None:
    assert FakeClock().now() == FakeClock().now()
    assert FakeClock().now().tzinfo == UTC


def test_fake_clock_refuses_naive_datetimes_and_going_backwards() -> None:
    with pytest.raises(ConfigError, match="timezone-aware"):
        FakeClock(datetime(2026, 1, 1))  # naive on purpose
    with pytest.raises(ConfigError, match="non-negative"):
        FakeClock().advance(-1)


def test_isoformat_is_fixed_width_utc_with_milliseconds_like_javascript() -> None:
    assert isoformat(START) == "2026-11-25T09:30:00.000Z"
    assert isoformat(START + timedelta(microseconds=123_999)) == "2026-11-25T09:30:00.123Z"
    later = START + timedelta(seconds=10)
    assert sorted([isoformat(later), isoformat(START)]) == [isoformat(START), isoformat(later)]
    assert isoformat(START.timestamp() + 0.5) == "2026-11-25T09:30:00.500Z"  # Unix seconds too
