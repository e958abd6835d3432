"""Every connection reads `timestamptz` with psycopg's C parser, in the connection's zone as
Django's own loader does (household_ledger/timestamps.py)."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from psycopg import pq

from household_ledger import timestamps

pytestmark = pytest.mark.django_db


def _registered_loader():
    connection.ensure_connection()
    return connection.connection.adapters.get_loader(timestamps.TIMESTAMPTZ_OID, pq.Format.TEXT)


def test_the_pinned_psycopg_has_the_c_loader_and_every_connection_uses_it():
    # psycopg[binary] is pinned: without its C loader the wrapper would parse in Python again.
    assert timestamps.OPTIMISED_LOADER.__module__.startswith("psycopg_binary")
    loader = _registered_loader()
    assert issubclass(loader, timestamps.ZoneTimestampLoader)
    assert loader.timezone is connection.timezone


def test_a_new_connection_gets_it_too():
    connection.close()
    assert issubclass(_registered_loader(), timestamps.ZoneTimestampLoader)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # An instant written with another offset is the same instant, in the connection's zone.
        (
            "2025-07-01 09:30:00.123456+09",
            datetime.datetime(2025, 7, 1, 0, 30, 0, 123456, tzinfo=datetime.UTC),
        ),
        ("1999-12-31 23:59:59Z", datetime.datetime(1999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)),
    ],
)
def test_values_are_the_written_instants_with_the_connections_zone(text, expected):
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz, NULL::timestamptz", [text])
        value, null = cursor.fetchone()
    assert value == expected
    assert value.tzinfo is connection.timezone  # as Django's loader gives it
    assert (
        value.astimezone(ZoneInfo("Asia/Seoul")).isoformat()
        == expected.astimezone(ZoneInfo("Asia/Seoul")).isoformat()
    )
    assert null is None


def test_a_saved_row_reads_back_its_own_instant(django_user_model):
    user = django_user_model.objects.create(username="timestamps", clerk_user_id="user_ts")
    read = django_user_model.objects.values_list("created_at", flat=True).get(pk=user.pk)
    assert read == user.created_at
    assert read.tzinfo is connection.timezone
