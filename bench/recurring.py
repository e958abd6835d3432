"""Benchmark of the recurring engine (not a test): `python -m bench.recurring`.

Creates N users × 5 recurring rules (default 10,000 × 5) in a dedicated PostgreSQL database,
then times one full `materialize_recurring` run (every missed month since each rule's start,
through the horizon) and a second run that has nothing to do, printing seconds, rows and the
process's peak memory. Targets on a 2-core machine: ≤ 60 s and ≤ 10 s. Between the two runs
it runs ANALYZE, as autovacuum does shortly after a bulk insert (a daily run finds fresh
statistics); without it the planner still believes the tables are empty.

The database is `BENCH_DATABASE_URL` (default
`postgres://postgres@127.0.0.1:5432/household_ledger_bench`); its name must end in `_bench`,
because the benchmark empties the ledger tables there. It is created and migrated if missing.
"""

import argparse
import os
import random
import resource
import sys
import time
from decimal import Decimal
from urllib.parse import urlparse

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/household_ledger_bench"


def _prepare_environment() -> str:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    name = urlparse(url).path.lstrip("/")
    if not name.endswith("_bench"):
        sys.exit(f"BENCH_DATABASE_URL must name a database ending in _bench, not {name!r}")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "household_ledger.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-secret-key")
    os.environ.setdefault("DJANGO_DEBUG", "false")  # DEBUG would log every query
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    _create_database(url, name)
    return name


def _create_database(url: str, name: str) -> None:
    import psycopg

    parsed = urlparse(url)
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _reset() -> None:
    from django.db import connection

    from accounts.models import User
    from ledger.models import Category, RecurringOccurrence, RecurringTransaction, Transaction

    tables = ", ".join(
        m._meta.db_table for m in (RecurringOccurrence, Transaction, RecurringTransaction)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables}")  # noqa: S608 - our own table names
        cursor.execute(
            f"DELETE FROM {Category._meta.db_table} WHERE user_id IS NOT NULL"  # noqa: S608
        )
        cursor.execute(f"DELETE FROM {User._meta.db_table}")  # noqa: S608


def _populate(users: int, seed: int) -> int:
    """`users` users with 5 rules each, started within the last 12 months."""
    from accounts.models import User
    from ledger.dates import add_months, local_today
    from ledger.models import Category, RecurringTransaction
    from ledger.services.ledgers import personal_ledger

    rng = random.Random(seed)
    today = local_today()
    categories = {c.name: c.pk for c in Category.objects.filter(ledger__personal_for__isnull=True)}
    rules = 0
    for offset in range(0, users, 1000):
        batch = [
            User(
                username=f"bench_{n:06d}",
                clerk_user_id=f"user_bench{n:06d}",
                email=f"bench{n}@example.com",
            )
            for n in range(offset, min(users, offset + 1000))
        ]
        User.objects.bulk_create(batch)
        new_rules = []
        for user in batch:

            def start():
                return add_months(today, -rng.randint(0, 11))  # noqa: B023 - called at once

            new_rules += [
                RecurringTransaction(
                    ledger=personal_ledger(user=user),
                    template_name="월세",
                    amount=Decimal("550000"),
                    type="expense",
                    category_id=categories.get("월세"),
                    start_date=start(),
                    day_of_month=25,
                ),
                RecurringTransaction(
                    ledger=personal_ledger(user=user),
                    template_name="통신비",
                    amount=Decimal("69000"),
                    type="expense",
                    category_id=categories.get("통신비"),
                    start_date=start(),
                    day_of_month=31,
                ),
                RecurringTransaction(
                    ledger=personal_ledger(user=user),
                    template_name="월급",
                    amount=Decimal("3200000"),
                    type="income",
                    category_id=categories.get("월급"),
                    start_date=start(),
                    day_of_month=rng.randint(1, 28),
                ),
                RecurringTransaction(
                    ledger=personal_ledger(user=user),
                    template_name="전기요금",
                    amount=None,
                    is_variable_amount=True,
                    type="expense",
                    category_id=categories.get("공과금"),
                    start_date=start(),
                    day_of_month=15,
                ),
                RecurringTransaction(
                    ledger=personal_ledger(user=user),
                    template_name="자동차보험",
                    amount=Decimal("900000"),
                    type="expense",
                    frequency="yearly",
                    start_date=start(),
                    day_of_month=rng.randint(1, 31),
                ),
            ]
        RecurringTransaction.objects.bulk_create(new_rules, batch_size=1000)
        rules += len(new_rules)
    return rules


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=None, help="rules per batch")
    parser.add_argument("--seed", type=int, default=20250802)
    args = parser.parse_args(argv)

    name = _prepare_environment()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from ledger.models import RecurringOccurrence, Transaction
    from ledger.services.recurring.engine import DEFAULT_BATCH_SIZE
    from ledger.tasks import confirm_due_transactions, materialize_recurring

    batch_size = args.batch_size or DEFAULT_BATCH_SIZE
    call_command("migrate", verbosity=0)
    _reset()
    started = time.perf_counter()
    rules = _populate(args.users, args.seed)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"database {name}: {args.users:,} users × 5 = {rules:,} rules "
        f"created in {time.perf_counter() - started:.1f} s"
    )
    print(f"peak memory after setup: {_peak_rss_mb():.0f} MB (process RSS)")

    for label in ("first run (everything missing)", "second run (nothing to do)"):
        if label.startswith("second"):
            # What autovacuum does shortly after a bulk insert; a daily run finds fresh stats.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        started = time.perf_counter()
        result = materialize_recurring(batch_size=batch_size)
        elapsed = time.perf_counter() - started
        print(
            f"materialize_recurring, {label}: {elapsed:.1f} s — "
            f"{result['rules']:,} rules, {result['created']:,} transactions created; "
            f"peak memory {_peak_rss_mb():.0f} MB"
        )

    started = time.perf_counter()
    confirmed = confirm_due_transactions()["confirmed"]
    print(
        f"confirm_due_transactions: {time.perf_counter() - started:.1f} s — {confirmed:,} confirmed"
    )
    print(
        f"rows: {Transaction.objects.count():,} transactions, "
        f"{RecurringOccurrence.objects.count():,} occurrence records; "
        f"batch size {batch_size}; CPUs {os.cpu_count()}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
