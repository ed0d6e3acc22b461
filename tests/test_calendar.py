"""Business days, month arithmetic and statutory deadlines, on dates whose answers are known."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tasks.calendar import (
    add_months,
    add_working_days,
    add_years,
    end_of_local_day_utc,
    is_working_day,
    local_date,
    local_midnight_utc,
    next_working_day,
    statutory_deadline,
    working_days_between,
)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 12, 25), False),  # Christmas Day
        (date(2026, 12, 28), False),  # Boxing Day falls on a Saturday: substitute day Monday 28th
        (date(2026, 12, 29), True),
        (date(2027, 1, 1), False),  # New Year's Day
        (date(2026, 4, 3), False),  # Good Friday
        (date(2026, 4, 6), False),  # Easter Monday
        (date(2026, 8, 31), False),  # Summer bank holiday (England and Wales, not Scotland)
        (date(2026, 11, 21), False),  # a Saturday
        (date(2026, 11, 23), True),
    ],
)
def test_working_days_follow_england_and_wales(day: date, working: bool) -> None:
    assert is_working_day(day) is working


def test_three_business_days_across_christmas_and_new_year() -> None:
    # Opened Wednesday 23 December 2026: 24th (Thu), 29th (Tue), 30th (Wed).
    assert add_working_days(date(2026, 12, 23), 3) == date(2026, 12, 30)
    # Opened Thursday 31 December 2026: 1 January is a bank holiday -> 4th, 5th, 6th.
    assert add_working_days(date(2026, 12, 31), 3) == date(2027, 1, 6)


def test_three_business_days_across_easter() -> None:
    # Opened Thursday 2 April 2026: Good Friday and Easter Monday skipped -> 7th, 8th, 9th.
    assert add_working_days(date(2026, 4, 2), 3) == date(2026, 4, 9)


def test_working_days_between_counts_after_start_up_to_end() -> None:
    assert working_days_between(date(2026, 12, 23), date(2026, 12, 30)) == 3
    assert working_days_between(date(2026, 12, 30), date(2026, 12, 23)) == 0


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 5, 15), -6, date(2025, 11, 15)),
    ],
)
def test_add_months_clamps_at_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_leap_day_plus_two_years_is_28_february() -> None:
    assert add_years(date(2024, 2, 29), 2) == date(2026, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)


def test_next_working_day() -> None:
    assert next_working_day(date(2026, 11, 21)) == date(2026, 11, 23)
    assert next_working_day(date(2026, 11, 23)) == date(2026, 11, 23)


def test_local_dates_in_british_summer_time() -> None:
    # 00:30 on 1 July in London is 23:30 UTC on 30 June: the London date is 1 July.
    assert local_date(datetime(2026, 6, 30, 23, 30)) == date(2026, 7, 1)
    assert local_date(datetime(2026, 12, 31, 23, 30)) == date(2026, 12, 31)  # GMT in winter
    assert local_midnight_utc(date(2026, 7, 1)) == datetime(2026, 6, 30, 23, 0)
    assert end_of_local_day_utc(date(2026, 7, 1)) == datetime(2026, 7, 1, 23, 0)


@pytest.mark.parametrize(
    ("received", "verified", "extended", "due"),
    [
        (date(2026, 9, 3), None, False, date(2026, 10, 5)),  # 3 October 2026 is a Saturday
        (date(2026, 1, 31), None, False, date(2026, 3, 2)),  # 28 Feb is a Saturday -> Monday 2 March
        (date(2027, 1, 31), None, False, date(2027, 3, 1)),  # 28 Feb 2027 is a Sunday -> Monday 1 March
        (date(2028, 1, 31), None, False, date(2028, 2, 29)),  # leap year: a Tuesday
        (date(2026, 11, 25), None, False, date(2026, 12, 29)),  # 25 Dec, weekend, 28 Dec -> 29th
        (date(2026, 11, 2), date(2026, 11, 10), False, date(2026, 12, 10)),  # later identity check
        (
            date(2026, 11, 10),
            date(2026, 11, 2),
            False,
            date(2026, 12, 10),
        ),  # an earlier check changes nothing
        (date(2026, 11, 2), None, True, date(2027, 2, 2)),  # extended by two further months
    ],
)
def test_statutory_deadline(received: date, verified: date | None, extended: bool, due: date) -> None:
    assert statutory_deadline(received, verified, extended) == due
