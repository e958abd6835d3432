"""Input fields shared by the ledger's serializers: the shapes the SPA sends, validated strictly."""

import datetime
import re
from decimal import Decimal, InvalidOperation

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ledger.dates import month_end, parse_local_date

MAX_INTEGER_DIGITS = 13
MAX_DECIMAL_PLACES = 2
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@extend_schema_field(
    {
        "type": "number",
        "format": "decimal",
        "minimum": 0,
        "exclusiveMinimum": True,  # OpenAPI 3.0: a boolean qualifying `minimum`
        "maximum": 9999999999999.99,  # at most 13 digits before the point
        "example": 5400,
    }
)
class MoneyField(serializers.Field):
    """A positive amount in won: a JSON number or numeric string, exact to 2 decimal places.

    Rejects booleans, NaN, Infinity, exponents that overflow and more than 13 integer digits.
    Out: a JSON number (Decimal rendered as a number).
    """

    default_error_messages = {
        "invalid": "Enter a number.",
        "positive": "Must be greater than 0.",
        "places": f"At most {MAX_DECIMAL_PLACES} decimal places.",
        "digits": f"At most {MAX_INTEGER_DIGITS} digits before the decimal point.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float, str, Decimal)):
            self.fail("invalid")
        text = str(data).strip() if not isinstance(data, float) else repr(data)
        if len(text) > 64:
            self.fail("invalid")
        try:
            value = Decimal(text)
        except (InvalidOperation, ValueError):
            self.fail("invalid")
        if not value.is_finite():
            self.fail("invalid")
        if value <= 0:
            self.fail("positive")
        sign, digits, exponent = value.normalize().as_tuple()
        if exponent < -MAX_DECIMAL_PLACES:
            self.fail("places")
        if value.adjusted() >= MAX_INTEGER_DIGITS:
            self.fail("digits")
        return value.quantize(Decimal("0.01"))

    def to_representation(self, value):
        return None if value is None else Decimal(value)


@extend_schema_field(
    {
        "type": "string",
        "anyOf": [{"format": "date"}, {"format": "date-time"}],
        "example": "2025-07-25",
        "description": "YYYY-MM-DD, or an ISO instant (the date it falls on in the user's time "
        "zone); answers are always YYYY-MM-DD.",
    }
)
class LocalDateField(serializers.Field):
    """`YYYY-MM-DD`, or an ISO instant such as the SPA's `2025-07-24T15:00:00.000Z`.

    An instant becomes the date it is in the ledger's time zone: that one is 2025-07-25 in Seoul.
    The rule and the range (1900-01-01 … 2100-12-31) are `ledger.dates.parse_local_date`'s.
    """

    default_error_messages = {
        "invalid": "Enter a date as YYYY-MM-DD or an ISO 8601 date-time.",
    }

    def __init__(self, *, time_zone: str | None = None, **kwargs):
        self.time_zone = time_zone
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) > 40:
            self.fail("invalid")
        try:
            return parse_local_date(data, self.time_zone)
        except ValueError as error:  # its message: the format, or the product's date range
            raise serializers.ValidationError(str(error), code="invalid") from error

    def to_representation(self, value):
        return value.isoformat() if value else None


@extend_schema_field(
    {"type": "string", "example": "2025-07", "description": "YYYY-MM (a month) or YYYY-MM-DD"}
)
class MonthOrDateField(serializers.Field):
    """The SPA's `YYYY-MM` for a rule's start or end, or a full `YYYY-MM-DD`.

    `YYYY-MM` means the first of the month for a start (`end=False`) and the month's last day
    for an end (`end=True`), since an end month counts whole.
    """

    default_error_messages = {"invalid": "Enter a month as YYYY-MM or a date as YYYY-MM-DD."}

    def __init__(self, *, end: bool = False, **kwargs):
        self.end = end
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        text = data.strip()
        try:
            if match := _YEAR_MONTH.match(text):
                first = datetime.date(int(match[1]), int(match[2]), 1)
                return month_end(first) if self.end else first
            if _DATE.match(text):
                return datetime.date.fromisoformat(text)
        except ValueError:
            pass
        self.fail("invalid")

    def to_representation(self, value):
        return value.isoformat() if value else None


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": 31},
            {"type": "string", "pattern": "^\\s*(0?[1-9]|[12][0-9]|3[01])\\s*$"},
        ],
        "example": 25,
        "description": "1–31, a number or a numeric string (the SPA stored strings).",
    }
)
class DayOfMonthField(serializers.Field):
    """1–31, as a number or a numeric string (the SPA stored "1")."""

    default_error_messages = {"invalid": "Enter a whole number from 1 to 31."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, float) and data.is_integer():
            data = int(data)
        if isinstance(data, str) and data.strip().isdigit() and len(data.strip()) <= 2:
            data = int(data.strip())
        if not isinstance(data, int) or not 1 <= data <= 31:
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class RowReferenceField(serializers.PrimaryKeyRelatedField):
    """Another row by its id, or null. DRF reads an empty string as null for related fields;
    here it is refused, so "none" has one spelling (null), the one the schema states."""

    default_error_messages = {"blank": "Send null for none, not an empty string."}

    def run_validation(self, data=serializers.empty):
        if data == "":
            self.fail("blank")
        return super().run_validation(data)
