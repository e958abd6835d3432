"""Reads over transactions: the filtered list and the calendar views (one day, one month).

The calendar views can merge the recurring projection of SPEC §4 — the SPA's 📅 entries for
occurrences a rule will yield that have no transaction yet.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from ledger.dates import month_end
from ledger.models import Category, Transaction, TransactionStatus
from ledger.selectors.calendar_cache import (
    calendar_cache_get,
    calendar_cache_key,
    calendar_cache_set,
)
from ledger.selectors.recurring import ProjectedOccurrence, recurring_projection


def transaction_list(*, user) -> QuerySet[Transaction]:
    """The user's transactions, newest date first then newest created; category joined.

    Filtering (django-filter) and pagination are applied on top by the API. The base filter is
    on `user` and the default order matches the (user, date DESC) index.
    """
    return (
        Transaction.objects.filter(user=user)
        .select_related("category")
        .order_by("-date", "-created_at", "-id")
    )


@dataclass(frozen=True)
class ProjectedTransaction:
    """A calendar entry for a rule occurrence that has no transaction yet.

    It has the attributes of a `Transaction` that the API shows, so one serializer renders
    both; `id` is None and `projected` is True.
    """

    occurrence: ProjectedOccurrence

    id = None
    projected = True
    status = TransactionStatus.SCHEDULED
    created_at = None
    updated_at = None

    @property
    def date(self) -> datetime.date:
        return self.occurrence.date

    @property
    def description(self) -> str:
        rule = self.occurrence.rule
        return rule.description or rule.template_name

    @property
    def amount(self) -> Decimal | None:
        return self.occurrence.amount

    @property
    def type(self) -> str:
        return self.occurrence.rule.type

    @property
    def category(self) -> Category | None:
        return self.occurrence.rule.category

    @property
    def category_id(self):
        return self.occurrence.rule.category_id

    @property
    def recurring_id(self):
        return self.occurrence.rule.id


CalendarEntry = Transaction | ProjectedTransaction


def _calendar(
    *, user, date_from: datetime.date, date_to: datetime.date, include_projected: bool
) -> list[CalendarEntry]:
    entries: list[CalendarEntry] = list(
        Transaction.objects.filter(user=user, date__range=(date_from, date_to))
        .select_related("category")
        .order_by("date", "created_at", "id")
    )
    if include_projected:
        projected = recurring_projection(user=user, date_from=date_from, date_to=date_to)
        entries.extend(ProjectedTransaction(occurrence=occurrence) for occurrence in projected)
        # Stable: within a day, real transactions (in creation order) before projected ones.
        entries.sort(key=lambda entry: entry.date)
    return entries


def transaction_list_for_day(
    *, user, day: datetime.date, include_projected: bool = False
) -> list[CalendarEntry]:
    """One day's transactions in creation order, plus that day's projected occurrences if asked."""
    return _calendar(user=user, date_from=day, date_to=day, include_projected=include_projected)


def transaction_list_for_month(
    *, user, year: int, month: int, include_projected: bool = False
) -> list[CalendarEntry]:
    """One calendar month's transactions by date, plus its projected occurrences if asked.

    Raises ValueError for a month that does not exist (month 13, year 0).
    """
    first = datetime.date(year, month, 1)
    return _calendar(
        user=user, date_from=first, date_to=month_end(first), include_projected=include_projected
    )


# --- the calendar rendered by PostgreSQL ----------------------------------------------------
# A busy month is thousands of rows; building a model instance and a dict per row and encoding
# them was nearly all of the request's time (README "Performance"). For the calendar views the
# database renders each row's JSON object itself — the same keys, values and order as
# ledger.api.transactions.CalendarEntrySerializer (a test holds them equal) — and Python only
# joins the texts.


def _iso_datetime_sql(column: str) -> str:
    """SQL for DRF's rendering of an aware datetime in the session's time zone (set to the
    current one around the query): ISO 8601, microseconds only when non-zero, `Z` for UTC,
    else `+HH:MM`/`-HH:MM`. One `to_char` per value: converting with `AT TIME ZONE` and
    formatting the offset separately was ~40 % of the query (measured, 1,626 rows)."""
    return (
        f"replace(replace(to_char({column}, 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM'),"
        f" '.000000', ''), '+00:00', 'Z')"
    )


# A constant: only column names are interpolated (no user input). `row_to_json` of a row
# whose columns are the serializer's keys, in its order (cheaper than json_build_object).
_CALENDAR_JSON_SQL = f"""
SELECT r.date, row_to_json(r)::text FROM (
    SELECT t.id, t.date, t.description, t.amount, t.type, t.category_id AS category,
        c.name AS category_name, c.emoji AS category_emoji, t.status,
        t.recurring_id AS recurring, false AS projected, t.amount IS NULL AS amount_pending,
        {_iso_datetime_sql("t.created_at")} AS created_at,
        {_iso_datetime_sql("t.updated_at")} AS updated_at
    FROM ledger_transaction t LEFT JOIN ledger_category c ON c.id = t.category_id
    WHERE t.user_id = %(user)s AND t.date BETWEEN %(date_from)s AND %(date_to)s
    ORDER BY t.date, t.created_at, t.id
) r
"""  # noqa: S608


def _fetch_in_time_zone(sql: str, params: dict, time_zone: str) -> list[tuple]:
    """Rows of `sql` run with the session's TimeZone set to `time_zone`, in one round trip.

    The three statements go as one simple-protocol query (Django's client-side binding), which
    PostgreSQL runs as one transaction in autocommit mode, so `set_config(…, true)` ends with
    it; the last statement puts the connection's zone back for when an outer transaction goes
    on (tests, a caller's atomic block): Django reads every other timestamp assuming it.
    """
    params = {**params, "session_zone": time_zone, "connection_zone": connection.timezone_name}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('TimeZone', %(session_zone)s, true); "
            f"{sql}; "
            "SELECT set_config('TimeZone', %(connection_zone)s, true)",
            params,
        )
        cursor.nextset()
        return cursor.fetchall()


def transaction_calendar_json(
    *, user, date_from: datetime.date, date_to: datetime.date, include_projected: bool,
    render_projected,
) -> bytes:
    """The calendar of `date_from`..`date_to` as a JSON array (UTF-8), in `_calendar`'s order.

    Transactions are rendered by PostgreSQL, or come from the calendar cache; projected
    occurrences (few, and they depend on today) are rendered on every request by
    `render_projected(entry) -> str` (the serializer's JSON), after the day's real ones.
    """
    key = calendar_cache_key(user=user, date_from=date_from, date_to=date_to)
    rendered = calendar_cache_get(key)
    if rendered is None:
        params = {"user": user.pk, "date_from": date_from, "date_to": date_to}
        rendered = _RenderedCalendar.from_rows(_fetch_in_time_zone(
            _CALENDAR_JSON_SQL, params, timezone.get_current_timezone_name()
        ))
        # Only if no write committed while the rows were read (ledger.selectors.calendar_cache).
        if key is not None and key == calendar_cache_key(
            user=user, date_from=date_from, date_to=date_to
        ):
            calendar_cache_set(key, rendered)
    if not include_projected:
        return rendered.array
    projected = recurring_projection(user=user, date_from=date_from, date_to=date_to)
    return rendered.merged_with([
        (occurrence.date, render_projected(ProjectedTransaction(occurrence=occurrence)).encode())
        for occurrence in projected
    ])


class _RenderedCalendar(NamedTuple):
    """Real transactions as a JSON array (UTF-8, in calendar order) and each day's slice of it.

    A plain tuple of bytes and dates: what the cache stores and gives back. The array is
    served as it is (no copy of a ~650 KB month); projected entries are spliced in by day.
    """

    array: bytes
    days: tuple[tuple[datetime.date, int, int], ...]  # (day, start, end) in `array`, by date

    @classmethod
    def from_rows(cls, rows: list[tuple[datetime.date, str]]) -> _RenderedCalendar:
        parts, days, offset = [], [], 1  # after "["
        for day, text in rows:
            data = text.encode()
            if days and days[-1][0] == day:
                days[-1][2] = offset + len(data)
            else:
                days.append([day, offset, offset + len(data)])
            parts.append(data)
            offset += len(data) + 1  # the comma
        return cls(b"[" + b",".join(parts) + b"]", tuple(tuple(day) for day in days))

    def merged_with(self, entries: list[tuple[datetime.date, bytes]]) -> bytes:
        """The array with `entries` (day, JSON) placed after the real ones of their day."""
        entries = sorted(entries, key=lambda entry: entry[0])  # stable: keeps a day's order
        pieces, next_entry = [], 0
        for day, start, end in self.days:
            while next_entry < len(entries) and entries[next_entry][0] < day:
                pieces.append(entries[next_entry][1])
                next_entry += 1
            pieces.append(self.array[start:end])
            while next_entry < len(entries) and entries[next_entry][0] == day:
                pieces.append(entries[next_entry][1])
                next_entry += 1
        pieces.extend(data for _, data in entries[next_entry:])
        return b"[" + b",".join(pieces) + b"]"


def transaction_calendar_json_for_month(
    *, user, year: int, month: int, include_projected: bool, render_projected
) -> bytes:
    """`transaction_list_for_month`, as JSON rendered by the database."""
    first = datetime.date(year, month, 1)
    return transaction_calendar_json(
        user=user, date_from=first, date_to=month_end(first),
        include_projected=include_projected, render_projected=render_projected,
    )
