"""A Celery worker killed (SIGKILL) in the middle of the recurring engine's batches: the task
is redelivered (acks_late + reject on worker lost + the broker's visibility timeout), runs again
on another worker, and the ledger ends complete with no duplicate.

A private redis-server is the broker (so the visibility timeout can be short and nothing else
consumes the task); the database is the test database (`transactional_db`).
"""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db.models import Count

from accounts.tests.factories import UserFactory
from household_ledger.testing import child_process_env
from household_ledger.tests.live import RedisServer
from ledger.dates import local_today
from ledger.models import RecurringOccurrence, Transaction
from ledger.services.recurring.engine import recurring_horizon
from ledger.tests.factories import RecurringTransactionFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

VISIBILITY_TIMEOUT = 3  # seconds before an unacknowledged task is redelivered


@pytest.fixture
def broker():
    server = RedisServer().start()
    yield server
    server.kill()


@pytest.fixture
def worker(broker, tmp_path):
    processes = []

    def start(name):
        env = child_process_env(
            REDIS_URL=broker.url,
            CELERY_TASK_ALWAYS_EAGER="false",
            CELERY_VISIBILITY_TIMEOUT=VISIBILITY_TIMEOUT,
            RECURRING_CATCH_UP_ON_WORKER_START="false",
            LOG_LEVEL="INFO",
        )
        log = tmp_path / f"{name}.log"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "household_ledger",
                "worker",
                "--pool=solo",
                "--loglevel=info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{name}-{os.getpid()}@%h",
            ],
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return process, log

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def _expected_dates(start: datetime.date, day: int, through: datetime.date) -> int:
    months = (through.year - start.year) * 12 + through.month - start.month + 1
    last = datetime.date(through.year, through.month, min(day, 28))
    return months - (1 if last > through else 0)


def test_worker_killed_mid_batch_leaves_no_duplicates_after_redelivery(broker, worker):
    # given 400 monthly rules of 40 users, each 5 years old: ~24,000 occurrences to write
    today = local_today()
    start = datetime.date(today.year - 5, today.month, 1)
    users = [UserFactory() for _ in range(40)]
    rules = [
        RecurringTransactionFactory(user=users[n % 40], start_date=start, day_of_month=1 + n % 28)
        for n in range(400)
    ]
    through = recurring_horizon(today=today)
    expected = sum(_expected_dates(start, r.day_of_month, through) for r in rules)

    # when the engine runs in small batches on a worker, which is killed mid-run
    # Not the current app: shared tasks of later tests must keep sending to the real broker.
    producer = Celery(broker=broker.url, set_as_current=False)
    task = producer.send_task("ledger.tasks.materialize_recurring", kwargs={"batch_size": 2})
    first, first_log = worker("first")
    deadline = time.monotonic() + 60
    while Transaction.objects.count() == 0:
        assert time.monotonic() < deadline, first_log.read_text()
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    done_at_kill = Transaction.objects.count()
    assert 0 < done_at_kill < expected, "the kill must land mid-run"

    # then another worker gets the same task again once the visibility timeout passes
    second, second_log = worker("second")
    deadline = time.monotonic() + 120
    while task.id not in second_log.read_text() or "succeeded" not in second_log.read_text():
        assert second.poll() is None, second_log.read_text()
        assert time.monotonic() < deadline, second_log.read_text()
        time.sleep(0.25)

    # and the ledger is complete: every occurrence once, for every rule of every user
    assert Transaction.objects.count() == expected
    duplicates = (
        Transaction.objects.values("recurring_id", "date").annotate(n=Count("id")).filter(n__gt=1)
    )
    assert not duplicates.exists()
    assert RecurringOccurrence.objects.count() == expected
    per_rule = dict(Transaction.objects.values_list("recurring_id").annotate(n=Count("id")))
    assert all(per_rule.get(r.pk) == _expected_dates(start, r.day_of_month, through) for r in rules)
