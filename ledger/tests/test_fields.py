"""The shared input fields accept what the SPA sends and reject the rest by name."""

import datetime
from decimal import Decimal

import pytest
from rest_framework import serializers

from ledger.api.fields import DayOfMonthField, LocalDateField, MoneyField, MonthOrDateField


class Probe(serializers.Serializer):
    amount = MoneyField(required=False)
    date = LocalDateField(required=False)
    start = MonthOrDateField(required=False)
    end = MonthOrDateField(required=False, end=True)
    day = DayOfMonthField(required=False)


def valid(**data):
    serializer = Probe(data=data)
    assert serializer.is_valid(), serializer.errors
    return serializer.validated_data


def invalid(**data):
    serializer = Probe(data=data)
    assert not serializer.is_valid()
    return serializer.errors


@pytest.mark.parametrize(
    "raw, expected",
    [
        (5400, "5400.00"),
        (5400.0, "5400.00"),
        ("5400", "5400.00"),
        ("0.01", "0.01"),
        ("9999999999999.99", "9999999999999.99"),
        (1e3, "1000.00"),
    ],
)
def test_money_accepts_numbers_and_numeric_strings(raw, expected):
    assert valid(amount=raw)["amount"] == Decimal(expected)


@pytest.mark.parametrize(
    "raw",
    [
        True,
        False,
        "NaN",
        "Infinity",
        "-Infinity",
        float("nan"),
        float("inf"),
        0,
        -1,
        "0.001",
        "1e400",
        "1e13",
        "10000000000000",
        "abc",
        "",
        None,
        [],
        {},
    ],
)
def test_money_rejects_everything_else(raw):
    assert "amount" in invalid(amount=raw)


def test_an_instant_becomes_the_seoul_date():
    assert valid(date="2025-07-24T15:00:00.000Z")["date"] == datetime.date(2025, 7, 25)
    assert valid(date="2025-07-24T14:59:59Z")["date"] == datetime.date(2025, 7, 24)
    assert valid(date="2025-07-24")["date"] == datetime.date(2025, 7, 24)


@pytest.mark.parametrize("raw", ["2025-02-30", "2025-13-01", "yesterday", 20250724, "", "2025-7-1"])
def test_impossible_dates_are_rejected(raw):
    assert "date" in invalid(date=raw)


def test_year_month_means_first_for_a_start_and_last_day_for_an_end():
    data = valid(start="2024-02", end="2024-02")
    assert data["start"] == datetime.date(2024, 2, 1)
    assert data["end"] == datetime.date(2024, 2, 29)
    assert valid(start="2025-03-15")["start"] == datetime.date(2025, 3, 15)
    assert "start" in invalid(start="2025-13")


@pytest.mark.parametrize("raw, expected", [(1, 1), ("1", 1), ("31", 31), (15.0, 15)])
def test_day_of_month_accepts_numbers_and_numeric_strings(raw, expected):
    assert valid(day=raw)["day"] == expected


@pytest.mark.parametrize("raw", [0, 32, "0", "32", "1.5", True, "", None, 1.5])
def test_day_of_month_rejects_out_of_range(raw):
    assert "day" in invalid(day=raw)
