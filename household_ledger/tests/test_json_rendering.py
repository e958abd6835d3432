"""Answers are written by orjson exactly as the standard library's encoder with the one
`JSONEncoder.default` writes them (household_ledger/api/rendering.py)."""

import datetime
import json
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers

from household_ledger.api.rendering import JSONEncoder, JSONRenderer

SEOUL = ZoneInfo("Asia/Seoul")

VALUES = [
    {"amount": Decimal("5400.00"), "fraction": Decimal("1234.56"), "negative": Decimal("-3")},
    {"id": uuid.UUID("0b7c6d0e-3c1f-4a55-9a57-1f0f2a4f7e01"), "none": None, "yes": True},
    {"date": datetime.date(2025, 7, 25), "month": "2025-07"},
    {
        "utc": datetime.datetime(2025, 7, 25, 3, 4, 5, 678901, tzinfo=datetime.UTC),
        "seoul": datetime.datetime(2025, 7, 25, 12, 0, tzinfo=SEOUL),
    },
    {"description": '점심 🍜 "따옴표" \\ 탭\t줄\n', "emoji": "🍽️"},
    {"detail": gettext_lazy("Not found."), "list": [1, 2.5, "x", []]},
    {"categories": {0: {"amount": ["Enter a number."]}, 3: ["no"]}},  # DRF's ListField errors
    [],
    "plain",
]


def _standard_library(data) -> bytes:
    return json.dumps(
        data, cls=JSONEncoder, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode()


@pytest.mark.parametrize("data", VALUES)
def test_the_same_bytes_as_the_standard_librarys_encoder(data):
    assert JSONRenderer().render(data) == _standard_library(data)


def test_whole_amounts_are_integers_and_datetimes_are_drfs():
    rendered = json.loads(JSONRenderer().render(VALUES[0] | VALUES[3]))
    assert rendered["amount"] == 5400 and isinstance(rendered["amount"], int)
    assert rendered["fraction"] == 1234.56
    assert rendered["utc"] == "2025-07-25T03:04:05.678901Z"
    assert rendered["seoul"] == "2025-07-25T12:00:00+09:00"


def test_line_and_paragraph_separators_are_escaped_as_drf_does():
    data = {"description": "a\u2028b\u2029c"}
    rendered = JSONRenderer().render(data)
    assert rendered == b'{"description":"a\\u2028b\\u2029c"}'
    assert rendered == renderers.JSONRenderer().render(data)  # DRF's own renderer


def test_what_orjson_refuses_is_written_by_the_standard_library():
    data = {"big": 2**70}
    assert JSONRenderer().render(data) == _standard_library(data)


def test_an_indent_asked_for_is_honoured():
    rendered = JSONRenderer().render({"a": 1}, "application/json; indent=2")
    assert rendered == b'{\n  "a": 1\n}'


def test_nothing_renders_as_nothing():
    assert JSONRenderer().render(None) == b""


def test_what_no_encoder_knows_is_still_an_error():
    with pytest.raises(TypeError):
        JSONRenderer().render({"x": object()})
