"""How values become JSON, once for every answer (API views, the export stream).

Amounts are Decimals: they are written as JSON numbers — a whole amount as an integer
(`5400`, as the SPA stores won), a fractional one as a decimal (`1234.56`) — never as
strings.
"""

import datetime
from decimal import Decimal

from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder as DRFJSONEncoder


def iso_datetime(value: datetime.datetime | None, tz: datetime.tzinfo) -> str | None:
    """As DRF's DateTimeField renders an aware datetime: ISO 8601 in `tz`, `Z` for UTC."""
    if value is None:
        return None
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class JSONEncoder(DRFJSONEncoder):
    """DRF's encoder, with whole Decimals as integers."""

    def default(self, obj):
        if isinstance(obj, Decimal) and obj.is_finite() and obj == obj.to_integral_value():
            return int(obj)
        return super().default(obj)


class JSONRenderer(renderers.JSONRenderer):
    encoder_class = JSONEncoder
