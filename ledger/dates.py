"""Calendar helpers shared by the ledger: local dates, months, clamped days."""

import calendar
import datetime
import re
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime


def local_today(tz_name: str | None = None) -> datetime.date:
    """Today's date in the ledger's time zone (Asia/Seoul by default), not the server's."""
    return local_date(timezone.now(), tz_name)


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_label(month) -> str:
    """`YYYY-MM`, how every answer spells a month: of a date, or of anything with `year` and
    `month`."""
    return f"{month.year:04d}-{month.month:02d}"


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


# --- the product's one valid date range and the local date of an instant -------------------
# Every date the product accepts or produces (API, rules, projection, stats, import, export)
# lies in this range, so no computation near it can overflow `datetime.date` (year 1–9999).
DATE_MIN = datetime.date(1900, 1, 1)
DATE_MAX = datetime.date(2100, 12, 31)
DATE_RANGE_MESSAGE = "Enter a date from 1900-01-01 to 2100-12-31."
YEAR_MIN, YEAR_MAX = DATE_MIN.year, DATE_MAX.year

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def date_in_range(day: datetime.date) -> bool:
    return DATE_MIN <= day <= DATE_MAX


def local_date(instant: datetime.datetime, tz_name: str | None = None) -> datetime.date:
    """The date `instant` falls on in the ledger's time zone (2025-07-24T15:00Z → 2025-07-25 in
    Seoul). A naive (wall-clock) time is its own date. Raises ValueError when the date is not
    representable (an instant at the edge of year 1 or 9999)."""
    if instant.tzinfo is None:
        return instant.date()
    try:
        return instant.astimezone(ZoneInfo(tz_name or settings.TIME_ZONE)).date()
    except OverflowError as error:
        raise ValueError(DATE_RANGE_MESSAGE) from error


def parse_local_date(text: str, tz_name: str | None = None) -> datetime.date:
    """`YYYY-MM-DD`, or an ISO 8601 instant turned into its local date (`local_date`), within
    the product's range. Raises ValueError with the message to show."""
    text = text.strip()
    try:
        if _ISO_DATE.match(text):
            day = datetime.date.fromisoformat(text)
        else:
            instant = parse_datetime(text)
            if instant is None:
                raise ValueError
            day = local_date(instant, tz_name)
    except ValueError as error:
        if error.args and error.args[0] == DATE_RANGE_MESSAGE:
            raise
        raise ValueError("Enter a date as YYYY-MM-DD or an ISO 8601 date-time.") from error
    if not date_in_range(day):
        raise ValueError(DATE_RANGE_MESSAGE)
    return day
