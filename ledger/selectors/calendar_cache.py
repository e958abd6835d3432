"""The calendar views' cache: a rendered date range, keyed by the ledger versions it shows.

A heavy user's month is ~1,600 rows whose JSON PostgreSQL takes ~10 ms to build; the SPA asks
for the same months again and again. The key holds the user's LedgerVersion and the shared
default categories' one — tokens that PostgreSQL triggers replace in the same transaction as
any write to transactions or categories (ledger/migrations/0008) — so a write makes every
cached range of that user unreachable at once and an entry is never stale; the TTL only bounds
memory. A range is stored only if the versions read again after its rows are unchanged: no
write committed meanwhile, so the entry is exactly the state its key names — which keeps it
right even when a restored backup brings that key back.
Redis down: the cache answers misses (household_ledger.cache) and PostgreSQL renders.

Two tiers: each process keeps the calendars it served last (CALENDAR_CACHE_LOCAL_BYTES) in
front of the shared cache, which spares a hit reading the whole month back from Redis (~0.4 ms
for a busy month). Being keyed the same way, the local tier is never stale either.
"""

from __future__ import annotations

import datetime
import threading
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from ledger.models import SHARED_LEDGER_SCOPE

_VERSIONS_SQL = "SELECT scope, version FROM ledger_ledgerversion WHERE scope IN (%s, %s)"


def calendar_cache_key(*, user, date_from: datetime.date, date_to: datetime.date) -> str | None:
    """The key of this range as the user's ledger is now, or None: do not cache.

    Only on PostgreSQL, where the triggers that change the versions exist. A missing version
    row is a state too ("-", a user created since the migration who never wrote): the first
    write creates the row, and only the user's own deletion removes it.
    """
    if settings.CALENDAR_CACHE_SECONDS <= 0 or connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(_VERSIONS_SQL, [user.pk, SHARED_LEDGER_SCOPE])
        versions = dict(cursor.fetchall())
    own = versions.get(user.pk)
    shared = versions.get(SHARED_LEDGER_SCOPE)
    return ":".join((
        "ledger:calendar", user.pk.hex, own.hex if own else "-", shared.hex if shared else "-",
        # Timestamps are rendered in the current zone.
        timezone.get_current_timezone_name(), date_from.isoformat(), date_to.isoformat(),
    ))


def calendar_cache_get(key: str | None):
    """The rendered calendar stored under `key`, from this process or the shared cache."""
    if key is None:
        return None
    value = _local.get(key)
    if value is None:
        value = cache.get(key)
        if value is not None:
            _local.put(key, value)
    return value


def calendar_cache_set(key: str | None, value) -> None:
    """Store a rendered calendar, an `(array: bytes, days)` tuple."""
    if key is not None:
        _local.put(key, value)
        cache.set(key, value, settings.CALENDAR_CACHE_SECONDS)


def calendar_cache_clear_local() -> None:
    """Forget this process's own tier (tests; the shared cache is Django's to clear)."""
    _local.clear()


# What an entry keeps beyond its JSON (CPython, measured with tracemalloc): the key's string,
# the tuples, the dict's node (~220 bytes), and per day its (date, start, end) (~170 bytes). An
# empty day's calendar is a 2-byte array in ~360 bytes: counting only the JSON let a process
# hold many times its bound.
_ENTRY_OVERHEAD = 224
_DAY_OVERHEAD = 176


def _size(key: str, value: tuple) -> int:
    array, days = value
    return len(key) + len(array) + _ENTRY_OVERHEAD + _DAY_OVERHEAD * len(days)


class _LocalTier:
    """The calendars this process served last, least recently used dropped first, bounded by
    what they hold (`_size`). Entries are never stale (versioned keys) and die with the process;
    the TTL does not apply here, the bound does."""

    def __init__(self):
        self._entries: OrderedDict[str, tuple] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # gunicorn's gthread workers serve in threads

    def get(self, key: str):
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: str, value: tuple) -> None:
        size, limit = _size(key, value), settings.CALENDAR_CACHE_LOCAL_BYTES
        with self._lock:
            if key in self._entries:
                return
            if size > limit:
                return
            self._entries[key] = value
            self._bytes += size
            while self._bytes > limit:
                dropped_key, dropped = self._entries.popitem(last=False)
                self._bytes -= _size(dropped_key, dropped)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


_local = _LocalTier()
