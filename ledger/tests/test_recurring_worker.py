"""Integration: a real Celery worker process, the real Redis broker, the real test database.

The worker is `celery -A household_ledger worker --pool=solo`, started as a subprocess whose
DATABASE_URL is the pytest database; the test sends the task with `.delay()` (not eagerly), the
worker consumes it from Redis, and the rows appear in PostgreSQL. `transactional_db`, so the
worker sees the rows the test committed.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings

from household_ledger.celery import app as celery_app
from household_ledger.testing import child_process_env
from ledger.dates import add_months, local_today
from ledger.models import Transaction
from ledger.tasks import materialize_recurring
from ledger.tests.factories import RecurringTransactionFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def start_worker(tmp_path):
    """`start_worker(catch_up=False)` → a running worker process; stopped (warm) afterwards."""
    workers = []
    celery_app.control.purge()  # nothing left over from an earlier run in this Redis db

    def start(*, catch_up: bool):
        env = child_process_env(
            CELERY_TASK_ALWAYS_EAGER="false",
            RECURRING_CATCH_UP_ON_WORKER_START="true" if catch_up else "false",
        )
        log = tmp_path / f"worker{len(workers)}.log"
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
                f"pytest-{os.getpid()}-{len(workers)}@%h",
            ],
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        workers.append((process, log))
        return process, log

    yield start

    for process, log in workers:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # warm shutdown: finish the task, then exit
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                pytest.fail(f"the worker did not stop cleanly:\n{log.read_text()}")
        assert process.returncode == 0, log.read_text()
    celery_app.control.purge()


def wait_for(predicate, *, timeout=60, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    pytest.fail("timed out waiting for the worker" + (f":\n{log.read_text()}" if log else ""))


def test_a_real_worker_consumes_the_task_from_redis_and_writes_postgresql(start_worker):
    # given a rule that started two months ago, nothing materialized
    start = (local_today().replace(day=1) - timedelta(days=40)).replace(day=1)
    rule = RecurringTransactionFactory(start_date=start, day_of_month=1)
    assert Transaction.objects.count() == 0

    # when the task is queued through the broker (not eagerly) and a worker runs
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        result = materialize_recurring.delay()
    finally:
        celery_app.conf.task_always_eager = eager
    process, log = start_worker(catch_up=False)

    # then the worker writes start month … next month, once each
    wait_for(lambda: Transaction.objects.filter(recurring=rule).count() >= 4, log=log)
    time.sleep(0.5)
    dates = list(
        Transaction.objects.filter(recurring=rule).order_by("date").values_list("date", flat=True)
    )
    assert dates[0] == start and len(dates) == 4 and len(set(dates)) == 4
    assert Transaction.objects.get(recurring=rule, date=start).status == "confirmed"
    assert result.id in log.read_text()
    assert process.poll() is None


def test_a_worker_starting_up_catches_up_on_its_own(start_worker):
    # given a rule the engine never saw
    this_month = local_today().replace(day=1)
    rule = RecurringTransactionFactory(start_date=this_month, day_of_month=1)

    # when a worker starts, and nobody queues anything
    _, log = start_worker(catch_up=True)

    # then its start-up catch-up run materializes the rule
    wait_for(lambda: Transaction.objects.filter(recurring=rule).count() == 2, log=log)
    assert Transaction.objects.get(recurring=rule, date=this_month).status == "confirmed"
    next_month = add_months(this_month, 1)
    assert Transaction.objects.get(recurring=rule, date=next_month).status == "scheduled"
