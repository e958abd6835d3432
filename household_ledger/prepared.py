"""A cursor whose statements PostgreSQL parses and plans once per connection.

For the few fixed texts of hot read paths that cost more to plan than to run (the statistics,
budget versus actual: each planned in ~0.3 ms and run in about as much; `bench.budgets`).
Django's own cursors bind client-side and never prepare (psycopg's `ClientCursor`), so the
connection's `prepare_threshold` (settings) changes nothing else: only a cursor from
`prepared_cursor()` binds server-side, and psycopg prepares each text it runs there the first
time and keeps it for the connection's life (at most `prepared_max`, least recently used out).

Why not every query: a generic plan is made from the statistics of its day. Prepared
statements planned while a table was small kept a sequential scan as the table grew inside
one long transaction (a restore), which no ANALYZE could refresh. The texts run here read a
ledger's own rows by an index that leads with the ledger, whatever the table's size, none
takes a date range of any width (a generic plan made for a month reads five years slowly), and
PostgreSQL re-plans them whenever a table they read is analyzed.
"""

from functools import cache

from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django_prometheus.db.common import ExportingCursorWrapper


@cache
def _cursor_class(alias: str, vendor: str) -> type:
    """psycopg's server-binding cursor, counted by django-prometheus (a class per database,
    built once)."""
    return ExportingCursorWrapper(ServerBindingCursor, alias, vendor)


class _LoggedCursor(CursorDebugWrapper):
    """Logs each statement with its values, as Django's own cursors do: psycopg keeps no
    client-side text of a prepared execution for `last_executed_query` to read, so the text
    is composed here (only when queries are logged: DEBUG, tests)."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params)):
            return CursorWrapper.execute(self, sql, params)


def prepared_cursor():
    """A cursor (Django's wrapper: errors, execute wrappers, query logging; the metrics of
    django-prometheus) whose statements are prepared. Use it as `connection.cursor()`, for
    fixed texts whose values travel as parameters."""
    connection.ensure_connection()
    cursor = _cursor_class(connection.alias, connection.vendor)(connection.connection)
    if connection.queries_logged:
        return _LoggedCursor(cursor, connection)
    return connection.make_cursor(cursor)
