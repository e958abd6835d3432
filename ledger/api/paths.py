"""A month or a day given in a URL path, read once for every endpoint that takes one.

`…/{year}/{month}`, `…/{YYYY-MM}` and `…/{date}` segments are parsed here, within the
product's date range (`ledger.dates`), and described here for the OpenAPI schema, so every
such path accepts the same spellings and answers the same 400 naming `year`, `month` or `date`.
"""

import datetime
import re

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError

from ledger.dates import DATE_MAX, DATE_MIN, DATE_RANGE_MESSAGE, YEAR_MAX, YEAR_MIN, date_in_range

YEAR_MESSAGE = f"Enter a year from {YEAR_MIN} to {YEAR_MAX}."
MONTH_MESSAGE = "Enter a month from 1 to 12."
DAY_MESSAGE = "Enter a real date as YYYY-MM-DD."
YEAR_MONTH_MESSAGE = f"Enter a month as YYYY-MM, {YEAR_MIN}-01 to {YEAR_MAX}-12."

# ASCII digits only: `\d` and int() would also take other scripts' digits (a full-width ７).
_YEAR = re.compile(r"[0-9]{4}")
_MONTH = re.compile(r"[0-9]{1,2}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_YEAR_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")


def parse_year_month(year: str, month: str) -> tuple[int, int]:
    """`2025`, `7` (or `07`) → (2025, 7). Raises ValidationError naming each bad part."""
    errors = {}
    if not (_YEAR.fullmatch(year) and YEAR_MIN <= int(year) <= YEAR_MAX):
        errors["year"] = [YEAR_MESSAGE]
    if not (_MONTH.fullmatch(month) and 1 <= int(month) <= 12):
        errors["month"] = [MONTH_MESSAGE]
    if errors:
        raise ValidationError(errors)
    return int(year), int(month)


def parse_day(text: str) -> datetime.date:
    """`2025-07-25` → that date. Raises ValidationError naming `date`."""
    if not _DAY.fullmatch(text):
        raise ValidationError({"date": [DAY_MESSAGE]})
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:  # 2025-02-30, month 13
        raise ValidationError({"date": [DAY_MESSAGE]}) from None
    if not date_in_range(day):
        raise ValidationError({"date": [DATE_RANGE_MESSAGE]})
    return day


def parse_month(text: str) -> datetime.date:
    """`2025-07` → 2025-07-01, the month's first day. Raises ValidationError naming `month`."""
    if not _YEAR_MONTH.fullmatch(text):
        raise ValidationError({"month": [YEAR_MONTH_MESSAGE]})
    year, month = int(text[:4]), int(text[5:])
    if not (YEAR_MIN <= year <= YEAR_MAX and 1 <= month <= 12):
        raise ValidationError({"month": [YEAR_MONTH_MESSAGE]})
    return datetime.date(year, month, 1)


# The same rules, as the schema states them.
YEAR_PARAMETER = OpenApiParameter(
    "year",
    {"type": "integer", "minimum": YEAR_MIN, "maximum": YEAR_MAX},
    OpenApiParameter.PATH,
    description=f"Four digits, {YEAR_MIN}–{YEAR_MAX}.",
)
MONTH_PARAMETER = OpenApiParameter(
    "month",
    {"type": "integer", "minimum": 1, "maximum": 12},
    OpenApiParameter.PATH,
    description="1–12 (one or two digits).",
)
DAY_PARAMETER = OpenApiParameter(
    "date",
    {"type": "string", "format": "date"},
    OpenApiParameter.PATH,
    description=f"YYYY-MM-DD, {DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}.",
)
YEAR_MONTH_PARAMETER = OpenApiParameter(
    "month",
    {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "example": "2025-07"},
    OpenApiParameter.PATH,
    description=f"YYYY-MM, {YEAR_MIN}-01 to {YEAR_MAX}-12.",
)

__all__ = [
    "DAY_PARAMETER",
    "MONTH_PARAMETER",
    "YEAR_MONTH_PARAMETER",
    "YEAR_PARAMETER",
    "parse_day",
    "parse_month",
    "parse_year_month",
]
