"""`ledger.api.paths`: the one reading of a month or a day in a URL path.

`parse_year_month` is exercised through HTTP by `/stats/monthly` (test_stats.py); `parse_day`
serves `/transactions/by-date/{date}`, whose HTTP tests live with the transactions API.
"""

import datetime

import pytest
from rest_framework.exceptions import ValidationError

from ledger.api.paths import parse_day, parse_year_month


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-07-25", datetime.date(2025, 7, 25)),
        ("1900-01-01", datetime.date(1900, 1, 1)),
        ("2100-12-31", datetime.date(2100, 12, 31)),
    ],
)
def test_parse_day_reads_a_date_in_the_product_range(text, expected):
    assert parse_day(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2025-02-30", "Enter a real date as YYYY-MM-DD."),
        ("2025-7-25", "Enter a real date as YYYY-MM-DD."),
        ("2025-07-25T00:00:00Z", "Enter a real date as YYYY-MM-DD."),
        ("２０２５-07-25", "Enter a real date as YYYY-MM-DD."),  # full-width digits
        ("2025-07-25\n", "Enter a real date as YYYY-MM-DD."),
        ("1899-12-31", "Enter a date from 1900-01-01 to 2100-12-31."),
        ("9999-12-31", "Enter a date from 1900-01-01 to 2100-12-31."),
    ],
)
def test_parse_day_names_the_date_with_the_reason(text, message):
    with pytest.raises(ValidationError) as raised:
        parse_day(text)
    assert raised.value.detail == {"date": [message]}


def test_parse_year_month_takes_four_digit_years_and_one_or_two_digit_months():
    assert parse_year_month("2025", "7") == parse_year_month("2025", "07") == (2025, 7)
