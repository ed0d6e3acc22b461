"""The business calendar: England-and-Wales working days, month arithmetic and legal deadlines.

Every date here is a calendar date in the office's time zone (Europe/London by default); timestamps in
the database are naive UTC and are converted with `local_date` / `local_midnight_utc`.
"""

from __future__ import annotations

import calendar as _calendar
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from steward.settings import get_settings


@cache
def _bank_holidays(year: int) -> frozenset[date]:
    # England and Wales share their bank holidays; the office is in York.
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not an England-and-Wales bank holiday."""
    return day.weekday() < 5 and not is_bank_holiday(day)


def next_working_day(day: date) -> date:
    """`day` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(day: date, count: int) -> date:
    """The `count`-th working day after `day` (`day` itself is not counted)."""
    if count < 0:
        raise ValueError("count must not be negative")
    current = day
    remaining = count
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count


def add_months(day: date, months: int) -> date:
    """The corresponding date `months` later (or earlier), clamped to the month's last day.

    31 January + 1 month is 28 (or 29) February; 29 February + 12 months is 28 February.
    """
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    month += 1
    last = _calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


def _zone(tz: ZoneInfo | None) -> ZoneInfo:
    return tz or get_settings().tz


def local_date(moment_utc: datetime, tz: ZoneInfo | None = None) -> date:
    """The office's calendar date at a naive-UTC (or aware) moment."""
    if moment_utc.tzinfo is None:
        moment_utc = moment_utc.replace(tzinfo=UTC)
    return moment_utc.astimezone(_zone(tz)).date()


def local_midnight_utc(day: date, tz: ZoneInfo | None = None) -> datetime:
    """The naive-UTC moment at which `day` starts in the office's time zone."""
    return datetime.combine(day, time.min, tzinfo=_zone(tz)).astimezone(UTC).replace(tzinfo=None)


def end_of_local_day_utc(day: date, tz: ZoneInfo | None = None) -> datetime:
    """The naive-UTC moment at which `day` ends (the next local midnight) in the office's time zone."""
    return local_midnight_utc(day + timedelta(days=1), tz)


def today_local(tz: ZoneInfo | None = None) -> date:
    return datetime.now(UTC).astimezone(_zone(tz)).date()


def utc_now() -> datetime:
    """Now, as the naive UTC the database stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def statutory_deadline(received_on: date, verified_on: date | None = None, extended: bool = False) -> date:
    """The UK GDPR deadline for a data-subject request (subject access, erasure and the other rights).

    One calendar month from receipt, or from the identity check where that came later: the
    corresponding date in the next month, or that month's last day where there is none, moved to the
    next working day when it falls on a weekend or bank holiday. An extension for a complex request
    adds two further months (three months from the same start, UK GDPR art. 12(3)).
    """
    start = max(received_on, verified_on) if verified_on else received_on
    return next_working_day(add_months(start, 3 if extended else 1))
