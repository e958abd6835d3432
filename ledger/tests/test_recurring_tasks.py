"""The Celery tasks, the beat schedule and the management command over the recurring engine."""

import datetime
import threading
from datetime import date
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.db.models import Count
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from household_ledger.celery import app as celery_app
from household_ledger.celery import catch_up_recurring
from ledger.models import RecurringOccurrence, Transaction, TransactionStatus
from ledger.services.ledgers import personal_ledger
from ledger.services.recurring.engine import recurring_materialize, recurring_materialize_all
from ledger.services.recurring.rules import recurring_create
from ledger.tasks import confirm_due_transactions, materialize_recurring
from ledger.tests.factories import RecurringTransactionFactory, TransactionFactory

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def clock(time_machine):
    def move(year, month, day, hour=12):
        time_machine.move_to(datetime.datetime(year, month, day, hour, tzinfo=SEOUL), tick=False)

    return move


def duplicates():
    return list(
        Transaction.objects.values("recurring", "date").annotate(n=Count("id")).filter(n__gt=1)
    )


@pytest.mark.django_db
def test_materialize_task_twice_creates_each_occurrence_once(clock):
    # given two users' rules that started in January, and it is 10 March
    clock(2025, 3, 10)
    RecurringTransactionFactory(start_date=date(2025, 1, 1), day_of_month=25)
    RecurringTransactionFactory(start_date=date(2025, 1, 1), day_of_month=31)

    # when the task runs twice
    first = materialize_recurring.delay().get()
    second = materialize_recurring.delay().get()

    # then January–April exist once per rule
    assert first == {"rules": 2, "created": 8}
    assert second == {"rules": 2, "created": 0}
    assert Transaction.objects.count() == 8 and duplicates() == []


@pytest.mark.django_db
def test_materialize_task_accepts_a_through_date(clock):
    clock(2025, 3, 10)
    RecurringTransactionFactory(start_date=date(2025, 3, 1))
    assert materialize_recurring.delay(through="2025-12-31").get()["created"] == 10


@pytest.mark.django_db
def test_catch_up_after_three_months_down_fills_every_month_and_confirms_what_is_due(clock, user):
    # given a rule created on 10 March (Jan, Feb confirmed; Mar, Apr scheduled)
    clock(2025, 3, 10)
    rule = recurring_create(
        ledger=personal_ledger(user=user),
        template_name="월세",
        amount=Decimal("550000"),
        type="expense",
        start_date=date(2025, 1, 1),
        day_of_month=25,
    )
    variable = recurring_create(
        ledger=personal_ledger(user=user),
        template_name="전기요금",
        amount=None,
        is_variable_amount=True,
        type="expense",
        start_date=date(2025, 3, 1),
        day_of_month=15,
    )

    # when beat was down until 10 June, and one run of each task happens
    clock(2025, 6, 10)
    materialize_recurring.delay().get()
    confirmed = confirm_due_transactions.delay().get()

    # then every month is there once, due ones confirmed, the horizon scheduled
    assert confirmed == {"confirmed": 2}  # March and April were scheduled when created
    assert list(
        Transaction.objects.filter(recurring=rule).order_by("date").values_list("date", "status")
    ) == [
        (date(2025, 1, 25), "confirmed"),
        (date(2025, 2, 25), "confirmed"),
        (date(2025, 3, 25), "confirmed"),
        (date(2025, 4, 25), "confirmed"),
        (date(2025, 5, 25), "confirmed"),
        (date(2025, 6, 25), "scheduled"),
        (date(2025, 7, 25), "scheduled"),
    ]
    # and the variable rule's months are all there, still awaiting their amounts
    assert list(
        Transaction.objects.filter(recurring=variable)
        .order_by("date")
        .values_list("date", "status", "amount")
    ) == [(date(2025, m, 15), "scheduled", None) for m in range(3, 8)]


@pytest.mark.django_db(transaction=True)
def test_eight_threads_at_once_leave_exactly_one_transaction_per_occurrence():
    # given 30 rules of 10 users, none materialized, starting a year ago
    start = date.today().replace(day=1) - datetime.timedelta(days=360)
    rules = [
        RecurringTransactionFactory(start_date=start, day_of_month=day % 31 + 1)
        for day in range(30)
    ]
    expected = recurring_materialize_all(dry_run=True).created
    barrier = threading.Barrier(8)
    errors = []

    def run(n):
        try:
            barrier.wait(timeout=30)
            if n % 2:
                recurring_materialize_all(batch_size=4)
            else:
                for rule in rules[n:] + rules[:n]:
                    recurring_materialize(rule=rule)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    # when 8 threads (8 database connections) materialize at the same moment
    threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then no errors, no duplicates, nothing missing
    assert errors == []
    assert expected >= 30 * 12
    assert Transaction.objects.count() == expected
    assert RecurringOccurrence.objects.count() == expected
    assert duplicates() == []


@pytest.mark.django_db(transaction=True)
def test_two_engine_runs_at_once_create_each_occurrence_once():
    # given 40 rules of 40 users, each a year old, nothing materialized
    start = date.today().replace(day=1) - datetime.timedelta(days=360)
    for day in range(40):
        RecurringTransactionFactory(start_date=start, day_of_month=day % 28 + 1)
    expected = recurring_materialize_all(dry_run=True).created
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=30)
            results.append(recurring_materialize_all(batch_size=3).created)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    # when two all-users runs start at the same moment (two workers, two connections)
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then together they created every occurrence exactly once
    assert errors == []
    assert expected >= 40 * 12
    assert sum(results) == expected
    assert Transaction.objects.count() == RecurringOccurrence.objects.count() == expected
    assert duplicates() == []


@pytest.mark.django_db
def test_the_unique_key_decides_when_another_writer_got_there_first(clock, user):
    # given another writer's occurrence of March, not yet recorded (its commit raced ours)
    clock(2025, 3, 10)
    rule = RecurringTransactionFactory(user=user, start_date=date(2025, 3, 1))
    theirs = TransactionFactory(
        user=user, recurring=rule, date=date(2025, 3, 25), status=TransactionStatus.SCHEDULED
    )

    # when the engine runs
    created = recurring_materialize(rule=rule)

    # then it skips March (ON CONFLICT DO NOTHING), writes April, and records both
    assert [t.date for t in created] == [date(2025, 4, 25)]
    assert (
        list(
            Transaction.objects.filter(recurring=rule).order_by("date").values_list("pk", flat=True)
        )[0]
        == theirs.pk
    )
    assert duplicates() == []
    assert set(
        RecurringOccurrence.objects.filter(recurring=rule).values_list("date", flat=True)
    ) == {date(2025, 3, 25), date(2025, 4, 25)}


@pytest.mark.django_db
def test_confirming_due_occurrences_changes_the_calendar_etag(clock, user, other_user, auth_client):
    # given a scheduled occurrence of 25 March and the calendar read on the 24th
    clock(2025, 3, 24)
    recurring_create(
        ledger=personal_ledger(user=user),
        template_name="월세",
        amount=Decimal("550000"),
        type="expense",
        start_date=date(2025, 3, 1),
        day_of_month=25,
    )
    client = auth_client(user)
    url = "/transactions/by-month/2025/3"
    clock(2025, 3, 25, hour=0)
    etag = client.get(url)["ETag"]
    bystander = auth_client(other_user)
    their_etag = bystander.get(url)["ETag"]

    # when the nightly task confirms it
    assert confirm_due_transactions.delay().get() == {"confirmed": 1}

    # then the owner's calendar is new, with the confirmed row; another user's is not
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert [r["status"] for r in response.json()] == ["confirmed"]
    assert bystander.get(url, HTTP_IF_NONE_MATCH=their_etag).status_code == 304


@pytest.mark.django_db
def test_tasks_ack_late_and_retry_database_errors_with_backoff():
    for task in (materialize_recurring, confirm_due_transactions):
        assert task.acks_late is True
        assert OperationalError in task.autoretry_for
        assert task.retry_backoff and task.max_retries


@pytest.mark.django_db(transaction=True)  # the scheduler closes its database connection
def test_beat_schedule_runs_both_tasks_daily_after_midnight_in_seoul():
    # when beat starts with the database scheduler
    DatabaseScheduler(app=celery_app)

    # then the settings' entries are in its tables (visible in the admin), at 00:05 / 00:10 KST
    entries = {
        t.name: t for t in PeriodicTask.objects.select_related("crontab").filter(enabled=True)
    }
    materialize = entries["materialize-recurring"]
    confirm = entries["confirm-due-transactions"]
    assert materialize.task == "ledger.tasks.materialize_recurring"
    assert confirm.task == "ledger.tasks.confirm_due_transactions"
    for entry, minute in ((materialize, "5"), (confirm, "10")):
        crontab = entry.crontab
        assert (crontab.minute, crontab.hour, crontab.day_of_month) == (minute, "0", "*")
        assert str(crontab.timezone) == "Asia/Seoul"


def test_worker_start_queues_a_catch_up_run(settings):
    sent = []

    class App:
        def send_task(self, name, **kwargs):
            sent.append(name)

    class Consumer:
        app = App()

    catch_up_recurring(sender=Consumer())
    assert sent == ["ledger.tasks.materialize_recurring", "ledger.tasks.confirm_due_transactions"]

    settings.RECURRING_CATCH_UP_ON_WORKER_START = False
    catch_up_recurring(sender=Consumer())
    assert len(sent) == 2


# --- Management command ---------------------------------------------------------------------


@pytest.mark.django_db
def test_command_dry_run_prints_and_writes_nothing(clock, user):
    clock(2025, 3, 10)
    RecurringTransactionFactory(user=user, template_name="월세", start_date=date(2025, 2, 1))
    out = StringIO()

    call_command("materialize_recurring", "--dry-run", stdout=out)

    text = out.getvalue()
    assert "2025-02-25  confirmed" in text and "2025-04-25  scheduled" in text
    assert "would create 3 transaction(s)" in text
    assert Transaction.objects.count() == 0


@pytest.mark.django_db
def test_command_for_one_user_through_a_month(clock, user, other_user):
    clock(2025, 3, 10)
    RecurringTransactionFactory(user=user, start_date=date(2025, 3, 1))
    RecurringTransactionFactory(user=other_user, start_date=date(2025, 3, 1))
    out = StringIO()

    call_command(
        "materialize_recurring", "--user", user.clerk_user_id, "--through", "2025-06", stdout=out
    )

    assert "created 4 transaction(s)" in out.getvalue()
    assert "2025-06-25" in out.getvalue()
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 4
    assert Transaction.objects.filter(ledger__personal_for=other_user).count() == 0


@pytest.mark.django_db
def test_command_for_everyone_prints_a_summary(clock):
    clock(2025, 3, 10)
    RecurringTransactionFactory(start_date=date(2025, 3, 1))
    RecurringTransactionFactory(start_date=date(2025, 3, 1))
    out = StringIO()
    call_command("materialize_recurring", stdout=out)
    assert out.getvalue().strip() == (
        "2 active rule(s) through 2025-04-30: created 4 transaction(s)."
    )


@pytest.mark.django_db
def test_command_refuses_a_bad_month_or_unknown_user(user):
    with pytest.raises(CommandError, match="--through"):
        call_command("materialize_recurring", "--through", "2025-13")
    with pytest.raises(CommandError, match="--user"):
        call_command("materialize_recurring", "--user", "nobody")
