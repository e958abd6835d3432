"""Values rendered exactly as DRF's fields render them, for views that build their JSON
directly (hot paths where DRF's generic field-by-field rendering was much of the time)."""

import datetime


def iso_datetime(value: datetime.datetime | None, tz: datetime.tzinfo) -> str | None:
    """As DRF's DateTimeField renders an aware datetime: ISO 8601 in `tz`, `Z` for UTC."""
    if value is None:
        return None
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
