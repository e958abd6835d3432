"""Only `prepared_cursor()` prepares statements; Django's own cursors never do.

Read from PostgreSQL's own list of the connection's prepared statements
(`pg_prepared_statements`), so a change to psycopg's or Django's defaults shows here.
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from household_ledger.prepared import prepared_cursor

pytestmark = pytest.mark.django_db

_MARK = "SELECT %(n)s::int + 0 AS prepared_marker"


def _prepared_texts() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_statement_of_prepared_cursor_is_prepared_once_and_reused():
    with prepared_cursor() as cursor:
        for n in (1, 2, 3):
            cursor.execute(_MARK, {"n": n})
            assert cursor.fetchone() == (n,)
    marked = [text for text in _prepared_texts() if "prepared_marker" in text]
    assert len(marked) == 1  # one statement for the three executions, values as $1
    assert "$1" in marked[0]


def test_djangos_cursors_and_querysets_prepare_nothing():
    before = _prepared_texts()
    with connection.cursor() as cursor:
        for n in (1, 2, 3):
            cursor.execute(_MARK, {"n": n})
    get_user_model().objects.filter(username="nobody").count()
    # A named cursor (DECLARE … CURSOR, as exports stream) binds client-side too.
    list(get_user_model().objects.all().iterator(chunk_size=10))
    assert _prepared_texts() == before


def test_the_logged_text_of_a_prepared_statement_carries_its_values():
    with CaptureQueriesContext(connection) as captured, prepared_cursor() as cursor:
        cursor.execute(_MARK, {"n": 41})
    assert captured.captured_queries[-1]["sql"] == "SELECT 41::int + 0 AS prepared_marker"
