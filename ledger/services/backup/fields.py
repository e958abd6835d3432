"""Parsers for one value of an imported row: each returns the clean value or raises FieldError.

They accept what the SPA and Dexie actually stored (numbers or numeric strings with commas,
ISO instants or plain dates, `YYYY-MM` months, "1" for 1, 0/1 for booleans) and nothing
vaguer: anything else is a row error naming the field.
"""

import datetime
import math
import re
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from ledger.dates import month_end
from ledger.models import MONEY


class FieldError(ValueError):
    """The value of one field is unusable; the message says why."""


MAX_AMOUNT = Decimal(10) ** (MONEY["max_digits"] - MONEY["decimal_places"]) - Decimal("0.01")
CENT = Decimal("0.01")
MIN_YEAR, MAX_YEAR = 1900, 2100
MAX_KEY_LENGTH = 64

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
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


def _check_year(day: datetime.date, value) -> datetime.date:
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise FieldError(f"is out of range ({MIN_YEAR}-{MAX_YEAR}): {_describe(value)}")
    return day


def epoch_ms_to_datetime(value) -> datetime.datetime:
    """JavaScript's time value (ms since 1970, UTC), as Dexie's Date export stores it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FieldError(f"is not a valid date: {_describe(value)}")
    try:
        return datetime.datetime.fromtimestamp(value / 1000, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise FieldError(f"is out of range: {_describe(value)}") from exc


def parse_date(value, *, tz: ZoneInfo) -> datetime.date:
    """A calendar date in `tz`: from an ISO instant, a plain YYYY-MM-DD, or a JS time value."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise FieldError("is required")
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = epoch_ms_to_datetime(value)
    elif isinstance(value, str):
        text = value.strip()
        if _PLAIN_DATE.fullmatch(text):
            try:
                day = datetime.date.fromisoformat(text)
            except ValueError as exc:
                raise FieldError(f"is not a valid date: {_describe(value)}") from exc
            return _check_year(day, value)
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError as exc:
            raise FieldError(f"is not a valid date: {_describe(value)}") from exc
    else:
        raise FieldError(f"is not a valid date: {_describe(value)}")
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(tz)
        except (OverflowError, ValueError) as exc:
            raise FieldError(f"is out of range: {_describe(value)}") from exc
    return _check_year(moment.date(), value)


def parse_month(value, *, tz: ZoneInfo, end: bool = False) -> datetime.date | None:
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
            if not MIN_YEAR <= year <= MAX_YEAR:
                raise FieldError(f"is out of range ({MIN_YEAR}-{MAX_YEAR}): {_describe(value)}")
            first = datetime.date(year, month, 1)
            return month_end(first) if end else first
    return parse_date(value, tz=tz)


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
