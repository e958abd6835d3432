"""Values in URL paths, parsed once for every route: a year and month, a day."""

import datetime
import re

from rest_framework import serializers

from ledger.dates import DATE_RANGE_MESSAGE, YEAR_MAX, YEAR_MIN, date_in_range

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
YEAR_MESSAGE = f"Enter a year from {YEAR_MIN} to {YEAR_MAX}."
MONTH_MESSAGE = "Enter a month from 1 to 12."


def parse_year_month(year: str, month: str) -> tuple[int, int]:
    """`{year}/{month}` of a path: four digits in the product's range, and 1–12 (or 01–12)."""
    errors = {}
    if not (year.isascii() and year.isdigit() and len(year) == 4
            and YEAR_MIN <= int(year) <= YEAR_MAX):
        errors["year"] = [YEAR_MESSAGE]
    if not (month.isascii() and month.isdigit() and len(month) <= 2 and 1 <= int(month) <= 12):
        errors["month"] = [MONTH_MESSAGE]
    if errors:
        raise serializers.ValidationError(errors)
    return int(year), int(month)


def parse_day(text: str) -> datetime.date:
    """`{date}` of a path: YYYY-MM-DD, a real date in the product's range."""
    try:
        day = datetime.date.fromisoformat(text) if _ISO_DATE.match(text) else None
    except ValueError:
        day = None
    if day is None:
        raise serializers.ValidationError({"date": ["Enter a real date as YYYY-MM-DD."]})
    if not date_in_range(day):
        raise serializers.ValidationError({"date": [DATE_RANGE_MESSAGE]})
    return day
