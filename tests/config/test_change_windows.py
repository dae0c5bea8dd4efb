"""Change windows as the pipeline file writes them, and where they open, across days and DST."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from slackbot.config import parse_pipeline
from slackbot.config.meaning import parse_days
from slackbot.pipeline import ChangeWindow, Gates
from tests.config.samples import as_yaml, valid


def _prod_gates(window: dict[str, object]) -> Gates:
    data = valid()
    data["apps"]["myapp"]["environments"][2]["gates"]["changeWindows"] = [window]
    return parse_pipeline(as_yaml(data)).app("myapp").env("prod").gates


@pytest.mark.parametrize(
    ("spec", "days"),
    [
        (["mon-fri"], ("mon", "tue", "wed", "thu", "fri")),
        ("sat-sun", ("sat", "sun")),
        (["fri-mon"], ("mon", "fri", "sat", "sun")),
        (["wed", "mon", "wed"], ("mon", "wed")),
        (["sun-sat"], ("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
    ],
)
def test_days_parse_ranges_lists_and_wrapping_ranges(
    spec: str | list[str], days: tuple[str, ...]
) -> None:
    assert parse_days(spec) == days


def test_window_from_the_file_keeps_days_times_and_zone() -> None:
    gates = _prod_gates(
        {"days": "mon-fri", "start": "09:00", "end": "24:00", "timezone": "Europe/London"}
    )
    assert gates.change_windows == (
        ChangeWindow(("mon", "tue", "wed", "thu", "fri"), time(9, 0), time(0, 0), "Europe/London"),
    )


def test_window_without_days_or_zone_is_every_day_in_utc() -> None:
    (window,) = _prod_gates({"start": "22:00", "end": "24:00"}).change_windows
    assert window.days == ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    assert window.timezone == "UTC"
    assert window.contains(datetime(2025, 6, 1, 23, 59, tzinfo=UTC))
    assert not window.contains(datetime(2025, 6, 2, 0, 0, tzinfo=UTC))


def test_window_in_london_follows_the_clocks_going_forward_in_late_march() -> None:
    gates = _prod_gates(
        {"days": ["mon-fri"], "start": "09:00", "end": "17:00", "timezone": "Europe/London"}
    )
    # Thursday 27 March 2025: GMT, so 09:00 London is 09:00 UTC.
    assert not gates.window_open(datetime(2025, 3, 27, 8, 59, tzinfo=UTC))
    assert gates.window_open(datetime(2025, 3, 27, 9, 0, tzinfo=UTC))
    assert not gates.window_open(datetime(2025, 3, 27, 17, 0, tzinfo=UTC))
    # Friday 17:30 -> the weekend; clocks go forward on Sunday 30 March, so Monday's
    # 09:00 London is 08:00 UTC.
    friday_evening = datetime(2025, 3, 28, 17, 30, tzinfo=UTC)
    assert gates.next_window(friday_evening) == datetime(2025, 3, 31, 8, 0, tzinfo=UTC)
    assert gates.window_open(datetime(2025, 3, 31, 8, 30, tzinfo=UTC))
    assert not gates.window_open(datetime(2025, 3, 31, 16, 30, tzinfo=UTC))  # 17:30 BST


def test_window_next_open_is_now_inside_and_later_today_before_start() -> None:
    (window,) = _prod_gates({"days": ["mon-fri"], "start": "09:00", "end": "17:00"}).change_windows
    inside = datetime(2025, 3, 26, 12, 0, tzinfo=UTC)
    assert window.next_open(inside) == inside
    early = datetime(2025, 3, 26, 6, 0, tzinfo=UTC)
    assert window.next_open(early) == datetime(2025, 3, 26, 9, 0, tzinfo=UTC)
    saturday = datetime(2025, 3, 29, 10, 0, tzinfo=UTC)
    assert not window.contains(saturday)
    assert window.next_open(saturday) == datetime(2025, 3, 31, 9, 0, tzinfo=UTC)


def test_gates_with_two_windows_open_at_the_earlier_one() -> None:
    data = valid()
    data["apps"]["myapp"]["environments"][2]["gates"]["changeWindows"] = [
        {"days": ["sat"], "start": "10:00", "end": "12:00", "timezone": "America/New_York"},
        {"days": ["mon"], "start": "09:00", "end": "17:00", "timezone": "Asia/Tokyo"},
    ]
    gates = parse_pipeline(as_yaml(data)).app("myapp").env("prod").gates
    friday = datetime(2025, 3, 28, 12, 0, tzinfo=UTC)
    # Saturday 10:00 in New York (EDT, UTC-4) is 14:00 UTC; Monday 09:00 Tokyo is Monday 00:00 UTC.
    assert gates.next_window(friday) == datetime(2025, 3, 29, 14, 0, tzinfo=UTC)
    sunday = datetime(2025, 3, 30, 12, 0, tzinfo=UTC)
    assert gates.next_window(sunday) == datetime(2025, 3, 31, 0, 0, tzinfo=UTC)
