"""Retention date arithmetic: limits and cutoffs in calendar months, month ends, leap days, financial years."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tasks.calendar import add_months
from tasks.retention import (
    Period,
    financial_cutoff,
    financial_year_end,
    parse_year_end,
    retention_cutoff,
)

MARCH_31 = (3, 31)


def _due(anchor: date, today: date, months: int) -> bool:
    """The definition: kept up to and including anchor + period, due from the day after."""
    return add_months(anchor, months) < today


@pytest.mark.parametrize(
    ("text", "months", "shown"),
    [
        ("6 months", 6, "6 months"),
        ("2 years", 24, "2 years"),
        ("1 year", 12, "1 year"),
        ("18 months", 18, "18 months"),
    ],
)
def test_periods_parse_and_print(text: str, months: int, shown: str) -> None:
    assert Period.parse(text) == Period(months)
    assert str(Period(months)) == shown


@pytest.mark.parametrize("text", ["6", "six months", "0 months", "2 decades", "-1 years", ""])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Period.parse(text)


def test_a_day_inside_and_a_day_outside_six_months() -> None:
    decided = date(2025, 1, 15)
    limit = add_months(decided, 6)
    assert limit == date(2025, 7, 15)
    # on the limit date the record may still be kept; the day after it is due
    assert retention_cutoff(limit, Period(6)) <= decided
    assert retention_cutoff(limit + timedelta(days=1), Period(6)) > decided


def test_leap_day_plus_two_years_is_28_february() -> None:
    registered = date(2024, 2, 29)
    assert add_months(registered, 24) == date(2026, 2, 28)
    assert not _due(registered, date(2026, 2, 28), 24)
    assert _due(registered, date(2026, 3, 1), 24)
    assert retention_cutoff(date(2026, 2, 28), Period(24)) == date(2024, 2, 28)
    assert retention_cutoff(date(2026, 3, 1), Period(24)) == date(2024, 3, 1)


def test_month_end_clamping_is_not_a_plain_subtraction() -> None:
    # 29 February + 6 months is 29 August, so on 31 August the record is two days past its limit,
    # although 31 August - 6 months is 29 February (clamped): the cutoff must be 1 March.
    assert _due(date(2024, 2, 29), date(2024, 8, 31), 6)
    assert retention_cutoff(date(2024, 8, 31), Period(6)) == date(2024, 3, 1)
    # 31 August + 6 months is 28 February (2025): not due on 28 February, due on 1 March.
    assert add_months(date(2024, 8, 31), 6) == date(2025, 2, 28)
    assert retention_cutoff(date(2025, 2, 28), Period(6)) == date(2024, 8, 28)
    assert retention_cutoff(date(2025, 3, 1), Period(6)) == date(2024, 9, 1)


@pytest.mark.parametrize("months", [1, 6, 18, 24, 96])
def test_the_cutoff_agrees_with_the_definition_every_day_for_years(months: int) -> None:
    today = date(2023, 1, 1)
    while today < date(2025, 3, 1):
        cutoff = retention_cutoff(today, Period(months))
        for offset in range(1, 4):
            assert _due(cutoff - timedelta(days=offset), today, months), (today, cutoff)
        for offset in range(0, 4):
            assert not _due(cutoff + timedelta(days=offset), today, months), (today, cutoff)
        today += timedelta(days=1)


def test_financial_year_end() -> None:
    assert financial_year_end(date(2024, 3, 31), MARCH_31) == date(2024, 3, 31)
    assert financial_year_end(date(2024, 4, 1), MARCH_31) == date(2025, 3, 31)
    assert financial_year_end(date(2025, 1, 10), MARCH_31) == date(2025, 3, 31)
    # a year end of 29 February clamps to 28 February in ordinary years
    assert financial_year_end(date(2025, 2, 28), (2, 29)) == date(2025, 2, 28)
    assert financial_year_end(date(2024, 2, 29), (2, 29)) == date(2024, 2, 29)
    assert parse_year_end("12-31") == (12, 31)
    with pytest.raises(ValueError):
        parse_year_end("13-01")


def test_finance_records_count_from_the_end_of_their_financial_year() -> None:
    # An invoice of 10 April 2018 belongs to the year ending 31 March 2019: kept until 31 March 2025.
    issued = date(2018, 4, 10)
    assert add_months(financial_year_end(issued, MARCH_31), 72) == date(2025, 3, 31)
    assert financial_cutoff(date(2025, 3, 31), Period(72), MARCH_31) == date(2018, 4, 1)  # inside: kept
    assert financial_cutoff(date(2025, 4, 1), Period(72), MARCH_31) == date(2019, 4, 1)  # outside: due
    # the whole financial year becomes due on the same day
    assert financial_cutoff(date(2025, 4, 1), Period(72), MARCH_31) > date(2019, 3, 31)


def test_the_financial_cutoff_agrees_with_the_definition() -> None:
    today = date(2024, 1, 1)
    while today < date(2026, 6, 1):
        cutoff = financial_cutoff(today, Period(72), MARCH_31)
        for offset in (1, 2, 40, 200, 365):
            anchor = cutoff - timedelta(days=offset)
            assert add_months(financial_year_end(anchor, MARCH_31), 72) < today
        for offset in (0, 1, 40, 200, 364):
            anchor = cutoff + timedelta(days=offset)
            assert not add_months(financial_year_end(anchor, MARCH_31), 72) < today
        today += timedelta(days=5)
