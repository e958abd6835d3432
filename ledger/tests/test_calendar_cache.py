"""The calendar cache: a rendered range is served from the shared cache until a write the
calendar shows — by whatever path — changes the user's ledger version (PostgreSQL triggers)."""

import datetime
import logging
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings

from household_ledger.tests.live import free_port
from ledger.models import Category, LedgerVersion, Transaction
from ledger.selectors.calendar_cache import (
    _ENTRY_OVERHEAD,
    calendar_cache_clear_local,
    calendar_cache_get,
    calendar_cache_key,
    calendar_cache_set,
)
from ledger.selectors.transactions import _RenderedCalendar
from ledger.services.categories import category_delete, category_update
from ledger.services.recurring import recurring_materialize
from ledger.tests.factories import (
    CategoryFactory,
    RecurringTransactionFactory,
    TransactionFactory,
)

JULY = datetime.date(2025, 7, 1)
MONTH_URL = "/transactions/by-month/2025/7"
DAY_URL = "/transactions/by-date/2025-07-01"


@pytest.fixture
def ledger(user):
    """A July with the user's own category, a shared default one and no category."""
    own = CategoryFactory(user=user, name="간식", emoji="🍪")
    food = Category.objects.get(user=None, name="식비")
    rows = [
        TransactionFactory(user=user, date=JULY, category=own, amount=Decimal("3000")),
        TransactionFactory(user=user, date=JULY, category=food, amount=Decimal("12000")),
        TransactionFactory(user=user, date=datetime.date(2025, 7, 15), category=None),
    ]
    return {"own": own, "food": food, "rows": rows}


def _rendered_by_postgresql(client, url, settings):
    settings.CALENDAR_CACHE_SECONDS = 0
    try:
        return client.get(url).json()
    finally:
        settings.CALENDAR_CACHE_SECONDS = 600


def _post(client, user, ledger):
    client.post("/transactions", {"date": "2025-07-01", "amount": 777, "type": "expense",
                                  "description": "새 거래"}, format="json")


def _patch(client, user, ledger):
    client.patch(f"/transactions/{ledger['rows'][0].pk}", {"amount": 1}, format="json")


def _delete(client, user, ledger):
    client.delete(f"/transactions/{ledger['rows'][1].pk}")


def _queryset_update(client, user, ledger):  # no signals, no auto_now
    Transaction.objects.filter(pk=ledger["rows"][2].pk).update(description="바뀜")


def _raw_sql(client, user, ledger):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_transaction SET amount = 5 WHERE id = %s",
                       [ledger["rows"][2].pk])


def _bulk_create(client, user, ledger):  # what imports do
    Transaction.objects.bulk_create([
        Transaction(user=user, date=JULY, description=f"가져옴 {n}", amount=Decimal(n + 1),
                    type="expense", status="confirmed")
        for n in range(3)
    ])


def _own_category_renamed(client, user, ledger):
    category_update(category=ledger["own"], name="군것질")


def _own_category_deleted(client, user, ledger):
    category_delete(category=ledger["own"])


def _default_category_renamed(client, user, ledger):  # staff, in the admin: every user's
    Category.objects.filter(pk=ledger["food"].pk).update(emoji="🍚")


def _recurring_engine(client, user, ledger):  # raw INSERT … SELECT of the engine
    rule = RecurringTransactionFactory(user=user, day_of_month=20, start_date=JULY)
    recurring_materialize(rule=rule, through=datetime.date(2025, 7, 31),
                          today=datetime.date(2025, 7, 1))


@pytest.mark.django_db
@pytest.mark.parametrize("url", [MONTH_URL, DAY_URL])
@pytest.mark.parametrize("write", [
    _post, _patch, _delete, _queryset_update, _raw_sql, _bulk_create, _own_category_renamed,
    _own_category_deleted, _default_category_renamed, _recurring_engine,
])
def test_every_write_the_calendar_shows_is_shown_at_once(auth_client, user, ledger, settings,
                                                        url, write):
    # given a cached calendar
    client = auth_client(user)
    cached = client.get(url).json()
    assert client.get(url).json() == cached

    # when the ledger changes by this path
    write(client, user, ledger)

    # then the next answer is what PostgreSQL renders now
    answer = client.get(url).json()
    assert answer == _rendered_by_postgresql(client, url, settings)
    if url == MONTH_URL or write not in (_queryset_update, _raw_sql, _recurring_engine):
        assert answer != cached  # (those three change days other than July 1st)


@pytest.mark.django_db
def test_a_second_request_is_served_from_the_cache(auth_client, user, ledger,
                                                   django_assert_num_queries):
    client = auth_client(user)
    first = client.get(MONTH_URL)

    with django_assert_num_queries(2):  # the user and the versions; not the calendar's
        second = client.get(MONTH_URL)

    assert second.status_code == 200 and second["Content-Type"] == "application/json"
    assert second.content == first.content
    assert [row["description"] for row in second.json()] == [
        row.description for row in ledger["rows"]
    ]


@pytest.mark.django_db
def test_rows_read_while_a_write_commits_are_not_stored(auth_client, user, ledger, monkeypatch):
    from ledger.selectors import transactions as selector

    fetch = selector._fetch_in_time_zone

    def fetch_then_a_write_commits(*args):
        rows = fetch(*args)
        TransactionFactory(user=user, date=JULY, description="그사이에")
        return rows

    monkeypatch.setattr(selector, "_fetch_in_time_zone", fetch_then_a_write_commits)
    client = auth_client(user)
    key_before = calendar_cache_key(user=user, date_from=JULY, date_to=datetime.date(2025, 7, 31))

    client.get(MONTH_URL)  # rendered without the new row

    # not stored under the key read before: that key would name rows it does not hold (a
    # restored backup can bring a key back)
    assert calendar_cache_get(key_before) is None
    monkeypatch.setattr(selector, "_fetch_in_time_zone", fetch)
    answer = client.get(MONTH_URL).json()
    assert "그사이에" in [row["description"] for row in answer]


@pytest.mark.django_db
def test_projected_occurrences_are_merged_into_a_cached_month(auth_client, user, ledger,
                                                              settings):
    RecurringTransactionFactory(user=user, day_of_month=1, start_date=JULY)  # July 1st
    RecurringTransactionFactory(user=user, day_of_month=10, start_date=JULY)  # a day alone
    client = auth_client(user)
    url = f"{MONTH_URL}?include_projected=true"
    client.get(MONTH_URL)  # the real rows are cached without projection …

    answer = client.get(url).json()

    # … and the projection is put in its place: after July 1st's real ones, then the 10th
    assert [(row["date"], row["projected"]) for row in answer] == [
        ("2025-07-01", False), ("2025-07-01", False), ("2025-07-01", True),
        ("2025-07-10", True), ("2025-07-15", False),
    ]
    assert answer == _rendered_by_postgresql(client, url, settings)


def test_merging_places_each_entry_after_its_days_real_ones():
    rng = random.Random(20261126)
    for _ in range(200):
        real = sorted(
            (JULY + datetime.timedelta(days=rng.randrange(10)), f'{{"r":{n}}}')
            for n in range(rng.randrange(8))
        )
        extra = [(JULY + datetime.timedelta(days=rng.randrange(12)), f'{{"p":{n}}}'.encode())
                 for n in range(rng.randrange(5))]
        # the rule before the cache: real rows then projected ones, stably sorted by day
        expected = sorted([(day, text.encode()) for day, text in real] + extra,
                          key=lambda row: row[0])

        merged = _RenderedCalendar.from_rows(real).merged_with(extra)

        assert merged == b"[" + b",".join(text for _, text in expected) + b"]"


@pytest.mark.django_db
def test_another_users_writes_leave_the_cache_alone(user, other_user, ledger):
    key = calendar_cache_key(user=user, date_from=JULY, date_to=JULY)

    TransactionFactory(user=other_user, date=JULY)
    CategoryFactory(user=other_user).delete()

    assert calendar_cache_key(user=user, date_from=JULY, date_to=JULY) == key
    TransactionFactory(user=user, date=datetime.date(2020, 1, 1))  # any of the user's own
    assert calendar_cache_key(user=user, date_from=JULY, date_to=JULY) != key


@pytest.mark.django_db
def test_each_time_zone_has_its_own_entry(auth_client, user, ledger, settings):
    client = auth_client(user)
    settings.TIME_ZONE = "Asia/Seoul"
    seoul = client.get(MONTH_URL).json()
    settings.TIME_ZONE = "UTC"

    utc = client.get(MONTH_URL).json()

    assert seoul[0]["created_at"].endswith("+09:00") and utc[0]["created_at"].endswith("Z")


@pytest.mark.django_db
def test_redis_down_the_calendar_comes_from_postgresql(auth_client, user, ledger, caplog):
    client = auth_client(user)
    expected = client.get(MONTH_URL).json()
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with (
        override_settings(CACHES={"default": {
            "BACKEND": "household_ledger.cache.FaultTolerantRedisCache", "LOCATION": dead
        }}),
        caplog.at_level(logging.WARNING),
    ):
        calendar_cache_clear_local()
        down = [client.get(MONTH_URL) for _ in range(2)]
        _post(client, user, ledger)
        after_write = client.get(MONTH_URL).json()

    assert [response.json() for response in down] == [expected, expected]
    assert len(after_write) == len(expected) + 1
    assert any("cache unavailable" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_a_process_keeps_its_last_calendars_within_its_byte_bound(settings):
    from django.core.cache import cache

    entry = len("ka") + 100 + _ENTRY_OVERHEAD  # a key, its JSON and what holding them costs
    settings.CALENDAR_CACHE_LOCAL_BYTES = int(2.5 * entry)
    for name in "abc":
        calendar_cache_set(f"k{name}", (name.encode() * 100, ()))
    cache.clear()  # what is left is this process's own tier

    assert calendar_cache_get("ka") is None  # the oldest went when "kc" came
    assert calendar_cache_get("kb") == (b"b" * 100, ())
    calendar_cache_set("kd", (b"d" * 100, ()))  # "kb" was just used: "kc" goes
    assert [calendar_cache_get(k) is not None for k in ("kb", "kc", "kd")] == [True, False, True]
    calendar_cache_set("huge", (b"x" * int(2.5 * entry), ()))  # over the bound: shared only
    assert calendar_cache_get("kd") is not None


@pytest.mark.django_db
def test_a_calendar_served_by_another_process_is_read_from_the_shared_cache(
    auth_client, user, ledger, django_assert_num_queries
):
    client = auth_client(user)
    first = client.get(MONTH_URL)
    calendar_cache_clear_local()  # as if the next request reached another worker

    with django_assert_num_queries(2):
        second = client.get(MONTH_URL)

    assert second.content == first.content


@pytest.mark.django_db
def test_the_cache_can_be_turned_off(auth_client, user, ledger, settings,
                                     django_assert_num_queries):
    settings.CALENDAR_CACHE_SECONDS = 0
    client = auth_client(user)
    client.get(MONTH_URL)

    with django_assert_num_queries(2):  # the user and the calendar; no versions
        client.get(MONTH_URL)


@pytest.mark.django_db
def test_a_statement_bumps_each_user_once_and_a_user_deletion_forgets_theirs(user, other_user):
    Transaction.objects.bulk_create([
        Transaction(user=owner, date=JULY, description="x", amount=Decimal(1), type="expense")
        for owner in (user, other_user, user)
    ])
    assert set(LedgerVersion.objects.values_list("scope", flat=True)) >= {user.pk, other_user.pk}
    CategoryFactory(user=user).delete()  # a cascade whose triggers write the version again

    user.delete()

    assert not LedgerVersion.objects.filter(scope=user.pk).exists()
    assert LedgerVersion.objects.filter(scope=other_user.pk).exists()


def test_the_local_bound_counts_what_an_entry_really_keeps(settings):
    """A day with nothing in it is a 2-byte array, but its key, tuple and dict node are
    hundreds of bytes: the bound must count them, or the process grows far past it."""
    import gc
    import pickle
    import tracemalloc
    import uuid

    settings.CALENDAR_CACHE_LOCAL_BYTES = 400_000
    day = (JULY, '{"id":"' + "x" * 300 + '"}')
    pickles = [pickle.dumps(_RenderedCalendar.from_rows(rows)) for rows in ([], [day]) * 2000]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n, data in enumerate(pickles):  # what by-date requests leave behind
            key = ":".join(("ledger:calendar", uuid.uuid4().hex, uuid.uuid4().hex,
                            uuid.uuid4().hex, "Asia/Seoul", f"{n:010d}", f"{n:010d}"))
            calendar_cache_set(key, pickle.loads(data))
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        calendar_cache_clear_local()

    assert kept <= 1.2 * settings.CALENDAR_CACHE_LOCAL_BYTES


@pytest.mark.django_db(transaction=True)  # TRUNCATE: no pending deferred FK checks
@pytest.mark.parametrize("versioned", [True, False], ids=["written", "never-written"])
def test_a_truncate_is_shown_at_once(auth_client, user, ledger, versioned):
    """TRUNCATE fires no DELETE trigger: whoever truncates (raw SQL, an operator, `flush`)
    must still leave no calendar behind, also for a user with no version row yet."""
    if not versioned:
        LedgerVersion.objects.all().delete()  # rows from before migration 0008, never written
    client = auth_client(user)
    assert len(client.get(MONTH_URL).json()) == 3

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE ledger_transaction")

    assert client.get(MONTH_URL).json() == []


@pytest.mark.django_db(transaction=True)
def test_truncating_the_versions_leaves_no_calendar_behind(auth_client, user, ledger):
    client = auth_client(user)
    LedgerVersion.objects.all().delete()  # "-": the state a cached calendar was keyed by …
    assert len(client.get(MONTH_URL).json()) == 3
    TransactionFactory(user=user, date=JULY)  # … left by a write …

    with connection.cursor() as cursor:  # … must not come back
        cursor.execute("TRUNCATE ledger_ledgerversion")

    assert len(client.get(MONTH_URL).json()) == 4



@pytest.mark.django_db
def test_a_category_given_to_another_user_in_the_admin_leaves_no_calendar_behind(
    auth_client, user, other_user, ledger, superuser_client, settings
):
    """A category's transactions are its owner's: were the admin to hand it to someone else,
    the new owner's rename would change the old owner's calendar without their version."""
    from accounts.tests.admin_support import change_form_data

    url = f"/admin/ledger/category/{ledger['own'].pk}/change/"
    superuser_client.post(url, change_form_data(superuser_client.get(url),
                                                user=str(other_user.pk)))
    client = auth_client(user)
    client.get(MONTH_URL)  # cached

    category = Category.objects.get(pk=ledger["own"].pk)
    category_update(category=category, name="새 이름")

    assert client.get(MONTH_URL).json() == _rendered_by_postgresql(client, MONTH_URL, settings)
