"""Benchmark of budget versus actual: `GET /stats/budget/{year}/{month}` as a multiple of the
floor `GET /auth/me`, in-process, for a user with 8,000 transactions.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_bench python -m bench.budgets

Seeds one user (through the services) with `--transactions` rows spread over `--years` years
up to today (and other users' rows in the same table), twelve budgeted categories carrying
over since the first month (the longest chains: twelve months each, CARRY_OVER_MONTHS) and
changed every six months, plus a
variable-amount rule whose occurrence this month is pending (so the estimates are
summed too). Then, round-robin, times the floor and each endpoint through Django's test client
with a real signed Clerk session token (middleware, authentication, DRF, rendering; no
socket) and prints the medians and each endpoint's multiple of the floor. Target: ≤ 2×.

Use a database of its own: the seeded users (`bench_budgets_*`) are replaced on every run and
deleted at the end unless `--keep`.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from decimal import Decimal

USER = "bench_budgets_user"
TARGET = 2.0


def _configure_environment(public_pem: str, azp: str):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "household_ledger.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789abcdef")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    os.environ.setdefault("DJANGO_DEBUG", "false")  # DEBUG would record every query
    os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("THROTTLE_RATE_USER", "100000/s")
    os.environ["CLERK_JWT_KEY"] = public_pem  # networkless verification, a key of this run
    os.environ["CLERK_AUTHORIZED_PARTIES"] = azp
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database of its own (see the docstring).")


def _ensure_database():
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    params = {
        "host": db.get("HOST") or "127.0.0.1",
        "port": db.get("PORT") or 5432,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
    }
    try:
        psycopg.connect(dbname=db["NAME"], **params).close()
    except psycopg.OperationalError as error:
        if "does not exist" not in str(error):
            raise
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
            conn.execute(
                psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(db["NAME"]))
            )


def _seed(*, transactions: int, years: int, background: int, background_users: int):
    from django.db import connection

    from accounts.models import User
    from ledger.dates import add_months, local_today, month_start
    from ledger.models import Category, RecurringTransaction, Transaction
    from ledger.selectors.budgets import budget_category_list
    from ledger.services.budgets import budget_set
    from ledger.services.ledgers import personal_ledger
    from ledger.services.recurring.rules import recurring_bulk_create
    from ledger.services.transactions import transaction_bulk_create

    rng = random.Random(20250802)  # noqa: S311 - reproducible fake data
    User.objects.filter(username__startswith="bench_budgets_").delete()
    user = User.objects.create(username=USER, clerk_user_id=USER)
    today = local_today()
    first = add_months(month_start(today), -12 * years + 1)
    span = (today - first).days + 1
    categories = list(budget_category_list(ledger=personal_ledger(user=user))) + [
        Category.objects.create(ledger=personal_ledger(user=user), name=f"내 카테고리 {i}")
        for i in range(4)
    ]
    rows = [
        Transaction(
            ledger=personal_ledger(user=user),
            date=first + datetime.timedelta(days=rng.randrange(span)),
            description="bench",
            amount=Decimal(rng.randrange(1_000, 120_000, 10)),
            type="income" if rng.random() < 0.06 else "expense",
            category=None if rng.random() < 0.05 else rng.choice(categories),
            status="confirmed",
        )
        for _ in range(transactions)
    ]
    transaction_bulk_create(ledger=personal_ledger(user=user), transactions=rows)
    # Other users' rows in the same table, so the plans are those of a shared one.
    for index in range(background_users):
        other = User.objects.create(
            username=f"bench_budgets_bg_{index}", clerk_user_id=f"bench_budgets_bg_{index}"
        )
        transaction_bulk_create(
            ledger=personal_ledger(user=other),
            transactions=[
                Transaction(
                    ledger=personal_ledger(user=other),
                    date=first + datetime.timedelta(days=rng.randrange(span)),
                    description="bench",
                    amount=Decimal(rng.randrange(1_000, 120_000, 10)),
                    type="expense",
                    status="confirmed",
                )
                for _ in range(background // max(background_users, 1))
            ],
        )

    [rule] = recurring_bulk_create(
        ledger=personal_ledger(user=user),
        rules=[
            RecurringTransaction(
                ledger=personal_ledger(user=user),
                template_name="전기요금",
                amount=None,
                is_variable_amount=True,
                type="expense",
                category=categories[0],
                start_date=first,
                day_of_month=28,
            )
        ],
    )
    last_month = add_months(month_start(today), -1)
    transaction_bulk_create(
        ledger=personal_ledger(user=user),
        transactions=[
            Transaction(
                ledger=personal_ledger(user=user),
                date=last_month.replace(day=28),
                description="전기요금",
                amount=Decimal(42000),
                type="expense",
                category=categories[0],
                status="confirmed",
                recurring=rule,
            ),
            Transaction(
                ledger=personal_ledger(user=user),
                date=month_start(today).replace(day=28),
                description="전기요금",
                amount=None,
                type="expense",
                category=categories[0],
                status="scheduled",
                recurring=rule,
            ),
        ],
    )

    budgeted = categories[:12]
    month, changes = first, 0
    while month <= today:
        budget_set(
            ledger=personal_ledger(user=user),
            month=month,
            total=Decimal(3_000_000 + 100_000 * changes),
            categories=[
                {"category": c, "amount": Decimal(150_000 + 10_000 * changes), "carry_over": True}
                for c in budgeted
            ],
        )
        month, changes = add_months(month, 6), changes + 1
    with connection.cursor() as cursor:  # as autovacuum does soon after a bulk insert
        cursor.execute("VACUUM ANALYZE ledger_transaction, ledger_monthsummary")
    print(
        f"seeded {USER}: {transactions:,} transactions from {first} to {today}, "
        f"{changes} budget changes of {len(budgeted)} carrying lines, one pending occurrence"
    )
    return user


def _ms(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.budgets", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--transactions", type=int, default=8_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--background", type=int, default=40_000, help="other users' transactions")
    parser.add_argument("--background-users", type=int, default=20)
    parser.add_argument("--requests", type=int, default=300, help="timed rounds")
    parser.add_argument("--keep", action="store_true", help="keep the seeded user")
    args = parser.parse_args(argv)

    from bench.http_bench import AZP, make_key_pair, mint

    key, public_pem = make_key_pair()
    _configure_environment(public_pem, AZP)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment
    from rest_framework.test import APIClient

    from accounts.models import User
    from ledger.dates import add_months, local_today

    _ensure_database()
    call_command("migrate", verbosity=0)
    setup_test_environment()  # lets the test client's `testserver` host in
    user = _seed(
        transactions=args.transactions,
        years=args.years,
        background=args.background,
        background_users=args.background_users,
    )

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {mint(key, user.clerk_user_id)}")
    today = local_today()
    before = add_months(today, -1)
    endpoints = [
        ("floor: /auth/me", "/auth/me"),
        ("stats/budget (this month)", f"/stats/budget/{today.year}/{today.month}"),
        ("stats/budget (last month)", f"/stats/budget/{before.year}/{before.month}"),
        ("budgets/{month}", f"/budgets/{today:%Y-%m}"),
    ]
    for _, url in endpoints:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    times = {url: [] for _, url in endpoints}
    for _ in range(20):  # warm up
        for _, url in endpoints:
            client.get(url)
    for _ in range(args.requests):  # round-robin: load on the machine slows all alike
        for _, url in endpoints:
            times[url].append(_ms(lambda url=url: client.get(url)))

    floor = statistics.median(times["/auth/me"])
    print(f"\nload average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'endpoint':<28}{'p50':>9}{'p95':>9}{'× floor':>9}")
    worst = 0.0
    for name, url in endpoints:
        ordered = sorted(times[url])
        p50, p95 = statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]
        multiple = p50 / floor
        if url.startswith("/stats/budget"):
            worst = max(worst, multiple)
        print(f"{name:<28}{p50:>7.2f}ms{p95:>7.2f}ms{multiple:>8.2f}×")
    verdict = "ok" if worst <= TARGET else "OVER"
    print(f"\n/stats/budget p50 at most {worst:.2f}× the floor (target ≤ {TARGET:g}×): {verdict}")
    if not args.keep:
        User.objects.filter(username__startswith="bench_budgets_").delete()
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
