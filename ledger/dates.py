"""Calendar helpers shared by the ledger: local dates, months, clamped days."""

import calendar
import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def local_today(tz_name: str | None = None) -> datetime.date:
    """Today's date in the ledger's time zone (Asia/Seoul by default), not the server's."""
    return timezone.now().astimezone(ZoneInfo(tz_name or settings.TIME_ZONE)).date()


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first of the month `months` after `day`'s month."""
    index = day.year * 12 + (day.month - 1) + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def clamped_date(year: int, month: int, day_of_month: int) -> datetime.date:
    """`day_of_month` in that month, clamped to its last day (31 → 28/29 Feb, 30 Apr).

    The SPA used JavaScript dates, which rolled 31 February into March; the server clamps.
    """
    return datetime.date(year, month, min(day_of_month, calendar.monthrange(year, month)[1]))


def iter_month_starts(first: datetime.date, last: datetime.date):
    """The first day of every month from `first`'s month through `last`'s month, inclusive."""
    current = month_start(first)
    while current <= last:
        yield current
        current = add_months(current, 1)
