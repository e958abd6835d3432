"""The calendar views' JSON is rendered by PostgreSQL: it must equal the serializer's."""

import datetime
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from ledger.api.transactions import CalendarEntrySerializer
from ledger.models import Category, Transaction
from ledger.selectors.transactions import transaction_list_for_month
from ledger.tests.factories import RecurringTransactionFactory, TransactionFactory

JULY = datetime.date(2025, 7, 1)


def _rows(user):
    food = Category.objects.get(user=None, name="식비")
    utilities = Category.objects.get(user=None, name="공과금")
    rule = RecurringTransactionFactory(
        user=user, amount=None, is_variable_amount=True, category=utilities, day_of_month=10,
    )
    TransactionFactory(user=user, date=JULY, category=food, amount=Decimal("1234.5"),
                       description='따옴표 "quoted" \\ and\nnewline')
    TransactionFactory(user=user, date=JULY, category=None, amount=Decimal("4500"))
    TransactionFactory(user=user, date=datetime.date(2025, 7, 10), recurring=rule, amount=None,
                       status="scheduled")
    TransactionFactory(user=user, date=datetime.date(2025, 7, 31), type="income",
                       amount=Decimal("9999999999999.99"))
    RecurringTransactionFactory(user=user, day_of_month=3, category=food)
    # a created_at with no microseconds renders without a fraction (as isoformat does)
    Transaction.objects.filter(user=user, category=None).update(
        created_at=datetime.datetime(2025, 7, 1, 3, 4, 5, tzinfo=datetime.UTC)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["Asia/Seoul", "UTC", "America/New_York"])
@pytest.mark.parametrize("include_projected", [False, True])
def test_sql_rendering_equals_the_serializer(auth_client, user, settings, zone,
                                             include_projected):
    settings.TIME_ZONE = zone
    _rows(user)
    with timezone.override(zone):
        entries = transaction_list_for_month(
            user=user, year=2025, month=7, include_projected=include_projected
        )
        expected = json.loads(json.dumps(CalendarEntrySerializer(entries, many=True).data,
                                         default=float))
    response = auth_client(user).get(
        f"/transactions/by-month/2025/7?include_projected={str(include_projected).lower()}"
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    got = response.json()
    assert len(got) == (5 if include_projected else 4)
    assert got == expected
    # strings exactly as DRF writes them (not merely equal instants)
    assert [row["created_at"] for row in got] == [row["created_at"] for row in expected]
    day = auth_client(user).get(
        f"/transactions/by-date/2025-07-10?include_projected={str(include_projected).lower()}"
    ).json()
    assert day == [row for row in expected if row["date"] == "2025-07-10"]


@pytest.mark.django_db
def test_the_session_time_zone_is_put_back_after_the_calendar_query(user, settings):
    """The query sets the session's TimeZone to the current zone; nothing after it may see that
    (Django reads timestamps assuming the connection's own zone)."""
    from django.db import connection

    settings.TIME_ZONE = "America/New_York"
    _rows(user)
    with timezone.override("America/New_York"):
        transaction_list_for_month(user=user, year=2025, month=7)
        from ledger.selectors.transactions import transaction_calendar_json_for_month

        transaction_calendar_json_for_month(
            user=user, year=2025, month=7, include_projected=False, render_projected=str
        )
    with connection.cursor() as cursor:
        cursor.execute("SHOW TimeZone")
        assert cursor.fetchone()[0] == connection.timezone_name
    row = Transaction.objects.filter(user=user).order_by("created_at").first()
    assert row.created_at.utcoffset() == datetime.timedelta(0)
