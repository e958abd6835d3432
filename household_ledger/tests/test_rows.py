"""`RowSerializer` renders dict rows and result objects, nested ones included, from its
declared fields."""

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework import serializers

from household_ledger.api.rows import RowField, RowSerializer


class Upper(RowField):
    @staticmethod
    def render(value):
        return value.upper()


class LineOutput(RowSerializer):
    category = serializers.UUIDField(source="category_id", allow_null=True)
    amount = serializers.DecimalField(max_digits=15, decimal_places=2)
    at = serializers.DateTimeField()


class AnswerOutput(RowSerializer):
    name = Upper()
    day = serializers.DateField()
    open = serializers.BooleanField()
    first = LineOutput(allow_null=True)
    lines = LineOutput(many=True)


@dataclass
class Line:
    category_id: object
    amount: Decimal
    at: datetime.datetime


@dataclass
class Answer:
    name: str
    day: datetime.date
    open: int
    first: Line | None
    lines: list[Line]


NOON_UTC = datetime.datetime(2025, 7, 1, 3, 0, tzinfo=datetime.UTC)
CATEGORY = uuid.UUID("9a1d2c3b-4e5f-4a6b-8c7d-1e2f3a4b5c6d")


def test_an_object_renders_with_its_nested_rows_in_the_current_zone():
    line = Line(category_id=CATEGORY, amount=Decimal("5400.00"), at=NOON_UTC)
    answer = Answer(
        name="식비 july", day=datetime.date(2025, 7, 1), open=1, first=None, lines=[line]
    )

    with timezone.override(ZoneInfo("Asia/Seoul")):
        rendered = AnswerOutput(answer).data

    assert rendered == {
        "name": "식비 JULY",
        "day": "2025-07-01",
        "open": True,
        "first": None,
        "lines": [
            {
                "category": str(CATEGORY),
                "amount": Decimal("5400.00"),
                "at": "2025-07-01T12:00:00+09:00",
            }
        ],
    }


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_nested_rows_follow_each_answers_zone_not_the_first_ones(zone):
    answer = {
        "name": "x",
        "day": datetime.date(2025, 7, 1),
        "open": False,
        "first": {"category_id": None, "amount": Decimal(1), "at": NOON_UTC},
        "lines": [],
    }
    with timezone.override(ZoneInfo("Asia/Seoul")):
        AnswerOutput(answer).data  # noqa: B018 - renders once in another zone first

    with timezone.override(ZoneInfo(zone)):
        rendered = AnswerOutput(answer).data["first"]

    assert rendered["at"] == LineOutput()._render(answer["first"], ZoneInfo(zone))["at"]
    assert rendered["at"] != "2025-07-01T12:00:00+09:00"
    assert rendered["category"] is None


def test_a_field_without_a_converter_is_refused():
    class Unrenderable(RowSerializer):
        values = serializers.ListField(child=serializers.IntegerField())

    with pytest.raises(TypeError, match="ListField"):
        Unrenderable({"values": [1]}).data  # noqa: B018
