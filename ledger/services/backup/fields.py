"""Parsers for one value of an imported row: each returns the clean value or raises FieldError.

They accept what the SPA and Dexie actually stored (numbers or numeric strings with commas,
ISO instants or plain dates, `YYYY-MM` months, "1" for 1, 0/1 for booleans) and nothing
vaguer: anything else is a row error naming the field.
"""

import datetime
import math
import re
from decimal import Decimal, InvalidOperation

from ledger.dates import (
    DATE_MAX,
    DATE_MIN,
    DATE_RANGE_MESSAGE,
    YEAR_MAX,
    YEAR_MIN,
    date_in_range,
    local_date,
    month_end,
    parse_local_date,
)
from ledger.models import MONEY


class FieldError(ValueError):
    """The value of one field is unusable; the message says why."""


MAX_AMOUNT = Decimal(10) ** (MONEY["max_digits"] - MONEY["decimal_places"]) - Decimal("0.01")
CENT = Decimal("0.01")
MAX_KEY_LENGTH = 64

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_amount(value, *, required: bool = True) -> Decimal | None:
    """A positive amount with at most two decimals; None only when not `required`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldError("is required")
        return None
    if isinstance(value, bool):
        raise FieldError(f"must be a number, not {_describe(value)}")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise FieldError(f"must be a finite number, not {_describe(value)}")
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace(" ", "").removeprefix("₩")
        text = text.removesuffix("원")
        if not _NUMBER.fullmatch(text):
            raise FieldError(f"must be a number, not {_describe(value)}")
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the pattern already checked it
            raise FieldError(f"must be a number, not {_describe(value)}") from exc
    else:
        raise FieldError(f"must be a number, not {type(value).__name__}")
    if amount <= 0:
        raise FieldError(f"must be greater than 0, not {_describe(value)}")
    if amount > MAX_AMOUNT:
        raise FieldError(f"is too large (at most {MAX_AMOUNT})")
    rounded = amount.quantize(CENT)
    # A float such as 5399.999999999 is a rounding artefact of JavaScript arithmetic.
    artefact = isinstance(value, float) and abs(rounded - amount) < Decimal("0.000001")
    if rounded != amount and not artefact:
        raise FieldError(f"has more than 2 decimal places: {_describe(value)}")
    return rounded


def _check_range(day: datetime.date, value) -> datetime.date:
    if not date_in_range(day):
        raise FieldError(f"is out of range ({DATE_MIN} to {DATE_MAX}): {_describe(value)}")
    return day


def epoch_ms_to_datetime(value) -> datetime.datetime:
    """JavaScript's time value (ms since 1970, UTC), as Dexie's Date export stores it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FieldError(f"is not a valid date: {_describe(value)}")
    try:
        return datetime.datetime.fromtimestamp(value / 1000, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise FieldError(f"is out of range: {_describe(value)}") from exc


def parse_date(value, *, time_zone: str) -> datetime.date:
    """A calendar date in `time_zone` (`ledger.dates`): from a plain YYYY-MM-DD, an ISO
    instant or a JS time value (the instant's local date), within the product's range."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise FieldError("is required")
    if isinstance(value, str):
        try:
            return parse_local_date(value, time_zone)
        except ValueError as exc:
            if str(exc) == DATE_RANGE_MESSAGE:
                raise FieldError(
                    f"is out of range ({DATE_MIN} to {DATE_MAX}): {_describe(value)}"
                ) from exc
            raise FieldError(f"is not a valid date: {_describe(value)}") from exc
    if isinstance(value, datetime.datetime):  # a Typeson Date, revived
        moment = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = epoch_ms_to_datetime(value)
    else:
        raise FieldError(f"is not a valid date: {_describe(value)}")
    try:
        return _check_range(local_date(moment, time_zone), value)
    except ValueError as exc:  # not representable in `time_zone` (year 1 or 9999)
        raise FieldError(f"is out of range: {_describe(value)}") from exc


def parse_month(value, *, time_zone: str, end: bool = False) -> datetime.date | None:
    """`YYYY-MM` (the SPA's rule months) → its first day, or its last day when `end`.

    A full date is kept as it is. Empty means "none" (an open end).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        match = _MONTH.fullmatch(value.strip())
        if match:
            year, month = int(match[1]), int(match[2])
            if not 1 <= month <= 12:
                raise FieldError(f"is not a valid month: {_describe(value)}")
            if not YEAR_MIN <= year <= YEAR_MAX:
                raise FieldError(f"is out of range ({YEAR_MIN}-{YEAR_MAX}): {_describe(value)}")
            first = datetime.date(year, month, 1)
            return month_end(first) if end else first
    return parse_date(value, time_zone=time_zone)


def parse_int(value, *, low: int, high: int) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise FieldError("is required")
    if isinstance(value, bool):
        raise FieldError(f"must be a whole number, not {_describe(value)}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,9}\s*", value):
        value = int(value)
    if not isinstance(value, int):
        raise FieldError(f"must be a whole number, not {_describe(value)}")
    if not low <= value <= high:
        raise FieldError(f"must be between {low} and {high}, not {value}")
    return value


_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n"}


def parse_bool(value, *, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise FieldError(f"must be true or false, not {_describe(value)}")


def parse_choice(value, *, choices: dict[str, str], default: str | None = None) -> str:
    """One of `choices` (alias → canonical value), case-insensitively."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is not None:
            return default
        raise FieldError("is required")
    if isinstance(value, str):
        found = choices.get(value.strip().lower())
        if found:
            return found
    allowed = ", ".join(sorted(set(choices.values())))
    raise FieldError(f"must be one of {allowed}, not {_describe(value)}")


def parse_text(value, *, max_length: int, required: bool = False) -> str:
    if value is None:
        if required:
            raise FieldError("is required")
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise FieldError(f"must be text, not {type(value).__name__}")
    text = value.strip() if isinstance(value, str) else str(value)
    if "\x00" in text:
        raise FieldError("must not contain NUL characters")
    if required and not text:
        raise FieldError("must not be empty")
    if len(text) > max_length:
        raise FieldError(f"is too long ({len(text)} characters, at most {max_length})")
    return text


def parse_key(value) -> str | None:
    """An IndexedDB key (auto-increment integer or UUID string) as text; None when absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise FieldError(f"must be an integer or a string, not {_describe(value)}")
    if isinstance(value, float):
        if not value.is_integer():
            raise FieldError(f"must be an integer or a string, not {_describe(value)}")
        value = int(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_KEY_LENGTH:
            raise FieldError(f"is too long (at most {MAX_KEY_LENGTH} characters)")
        return text
    raise FieldError(f"must be an integer or a string, not {type(value).__name__}")
