"""Benchmark of `/stats/*` on a heavy ledger: server time against PostgreSQL time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_bench python -m bench.stats

Seeds one user with 100,000 transactions over 5 years (plus other users' rows, so the plans
are those of a shared table), then for every stats endpoint prints the median and p95 time of
an authenticated request through Django's test client (middleware, URL routing, DRF,
serializers, JSON rendering; no socket), the PostgreSQL execution time of the queries it runs
(`EXPLAIN (ANALYZE, BUFFERS)` on the exact SQL the endpoint sent, median of several runs) and
the cost of an empty authenticated DRF request. Target: median ≤ 2 × (SQL + empty request).

The database is created and migrated if needed. Use a database of its own: the seeded users
(`bench_*`) are replaced on every run and deleted at the end unless `--keep`.
"""

import argparse
import datetime
import json
import os
import random
import secrets
import statistics
import sys
import time
import uuid
from decimal import Decimal

HEAVY_USER = "bench_stats_heavy"
BACKGROUND_PREFIX = "bench_stats_bg_"


def _configure_environment():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "household_ledger.settings")
    # A throwaway process: a random key (nothing it signs outlives it), tasks inline, no Redis.
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database of its own, e.g. "
                 "postgres://postgres@127.0.0.1:5432/hl_bench")


def _ensure_database():
    """Create the database named in DATABASE_URL if it does not exist yet."""
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
        print(f"created database {db['NAME']}")


# --- Seeding ------------------------------------------------------------------------------------


def _seed(*, transactions: int, years: int, background_users: int, background_rows: int):
    from django.db import connection

    from accounts.models import User
    from ledger.dates import add_months, local_today
    from ledger.models import Category, RecurringTransaction

    rng = random.Random(20250802)  # noqa: S311 - reproducible fake data
    User.objects.filter(username__startswith="bench_stats_").delete()

    heavy = User.objects.create(username=HEAVY_USER, clerk_user_id=HEAVY_USER)
    own_categories = [
        Category.objects.create(user=heavy, name=f"내 카테고리 {i}", emoji="🧾") for i in range(10)
    ]
    categories = [c.id for c in Category.objects.filter(user__isnull=True)] + [
        c.id for c in own_categories
    ]
    today = local_today()
    first = add_months(today, -12 * years + 1)
    last = add_months(today, 2) - datetime.timedelta(days=1)  # this month and the next
    span = (last - first).days + 1
    for i, day in enumerate((1, 10, 25, 31)):
        RecurringTransaction.objects.create(
            user=heavy, template_name=f"정기 {i}", amount=Decimal(10000 * (i + 1)),
            type="income" if i == 0 else "expense", start_date=first, day_of_month=day,
        )

    background = User.objects.bulk_create(
        User(username=f"{BACKGROUND_PREFIX}{i}", clerk_user_id=f"{BACKGROUND_PREFIX}{i}")
        for i in range(background_users)
    )
    now = datetime.datetime.now(datetime.UTC)

    def rows(user_id, count):
        for _ in range(count):
            day = first + datetime.timedelta(days=rng.randrange(span))
            income = rng.random() < 0.08
            amount = (
                Decimal(rng.randrange(100_000, 5_000_000, 10))
                if income
                else Decimal(rng.randrange(1_000, 300_000, 10))
            )
            yield (
                uuid.uuid4(), user_id, day, "bench", amount, "income" if income else "expense",
                None if rng.random() < 0.05 else rng.choice(categories),
                "confirmed" if day <= today else "scheduled", "", now, now,
            )

    started = time.perf_counter()
    columns = (
        "id, user_id, date, description, amount, type, category_id, status, legacy_id, "
        "created_at, updated_at"
    )
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY ledger_transaction ({columns}) FROM STDIN") as copy:
            for row in rows(heavy.id, transactions):
                copy.write_row(row)
            for user in background:
                for row in rows(user.id, background_rows):
                    copy.write_row(row)
        cursor.execute("VACUUM ANALYZE ledger_transaction")
    print(
        f"seeded {transactions:,} transactions for {HEAVY_USER} from {first} to {last} and "
        f"{background_users * background_rows:,} for {background_users} other users "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return heavy


# --- Measuring ----------------------------------------------------------------------------------


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _time_requests(client, url, *, repeat: int) -> list[float]:
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _explain(sql: str, *, repeat: int):
    """Median execution and planning time (ms) of `sql`, and its plan's node summary."""
    from django.db import connection

    executions, plannings, plan = [], [], None
    with connection.cursor() as cursor:
        for _ in range(repeat):
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
            [result] = cursor.fetchone()[0]
            executions.append(result["Execution Time"])
            plannings.append(result["Planning Time"])
            plan = result["Plan"]
    return statistics.median(executions), statistics.median(plannings), plan


def _scan_nodes(plan) -> list[str]:
    nodes = []
    if "Relation Name" in plan:
        how = plan["Node Type"]
        if plan.get("Index Name"):
            how += f" {plan['Index Name']}"
        nodes.append(f"{plan['Relation Name']}: {how}")
    for child in plan.get("Plans", []):
        nodes.extend(_scan_nodes(child))
    return nodes


def _text_plan(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def _ledger_sql(client, url) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return [q["sql"] for q in captured.captured_queries if '"ledger_' in q["sql"]]


def _endpoints(today: datetime.date, years: int):
    from ledger.dates import add_months, month_end

    year_ago = add_months(today, -11)
    all_time = add_months(today, -12 * years + 1)
    return [
        ("summary (this month)", "/stats/summary"),
        ("summary (1 year)", f"/stats/summary?date_from={year_ago}&date_to={month_end(today)}"),
        ("monthly", f"/stats/monthly/{today.year}/{today.month}"),
        ("monthly + projected",
         f"/stats/monthly/{today.year}/{today.month}?include_projected=true"),
        ("category (this month)", "/stats/category"),
        ("category (5 years)",
         f"/stats/category?date_from={all_time}&date_to={month_end(today)}"),
        ("assets (all time)", "/stats/assets"),
        ("trend (12 months)", "/stats/trend?months=12"),
        ("trend (60 months)", "/stats/trend?months=60"),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.stats", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--background-users", type=int, default=100)
    parser.add_argument("--background-rows", type=int, default=1_000,
                        help="transactions per other user")
    parser.add_argument("--requests", type=int, default=60, help="timed requests per endpoint")
    parser.add_argument("--explain-runs", type=int, default=7)
    parser.add_argument("--plans", action="store_true", help="print each main query's plan")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the seeded users")
    parser.add_argument("--reuse", action="store_true",
                        help="use the seeded user of a previous --keep run")
    args = parser.parse_args(argv)

    _configure_environment()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import setup_test_environment
    from rest_framework.test import APIClient

    from accounts.models import User
    from ledger.dates import local_today

    _ensure_database()
    call_command("migrate", verbosity=0)
    setup_test_environment()  # lets the test client's `testserver` host in
    settings.ROOT_URLCONF = "bench.urls"

    heavy = User.objects.filter(username=HEAVY_USER).first() if args.reuse else None
    if heavy is None:
        heavy = _seed(
            transactions=args.transactions,
            years=args.years,
            background_users=args.background_users,
            background_rows=args.background_rows,
        )
    client = APIClient()
    # Real Clerk tokens are not verified here: force_authenticate skips only the signature
    # check, the rest of the request (middleware, DRF, permissions) runs as in production.
    client.force_authenticate(user=heavy)

    empty = _time_requests(client, "/bench/empty", repeat=args.requests * 2)
    empty_median = statistics.median(empty)
    print(
        f"\nempty authenticated DRF request: median {empty_median:.2f} ms, "
        f"p95 {_percentile(empty, 0.95):.2f} ms\n"
    )
    header = (
        f"{'endpoint':<24}{'median':>9}{'p95':>9}{'queries':>9}{'SQL exec':>10}"
        f"{'SQL plan':>10}{'budget':>9}  verdict  main query's scans"
    )
    print(header)
    print("-" * len(header))
    figures = []
    for name, url in _endpoints(local_today(), args.years):
        timings = _time_requests(client, url, repeat=args.requests)
        median, p95 = statistics.median(timings), _percentile(timings, 0.95)
        explained = [
            (sql, *_explain(sql, repeat=args.explain_runs)) for sql in _ledger_sql(client, url)
        ]
        execution = sum(e for _, e, _, _ in explained)
        planning = sum(p for _, _, p, _ in explained)
        main_sql, main_exec, _, main_plan = max(explained, key=lambda item: item[1])
        budget = 2 * (execution + planning + empty_median)
        scans = _scan_nodes(main_plan)
        seq = [scan for scan in scans if "ledger_transaction: Seq Scan" in scan]
        print(
            f"{name:<24}{median:>7.2f}ms{p95:>7.2f}ms{len(explained):>9}{execution:>8.2f}ms"
            f"{planning:>8.2f}ms{budget:>7.2f}ms  {'ok     ' if median <= budget else 'OVER   '}"
            f"  {'; '.join(s for s in scans if s.startswith('ledger_transaction'))}"
            + ("  ← seq scan" if seq else "")
        )
        if args.plans:
            print(_text_plan(main_sql), "\n")
        figures.append({
            "endpoint": name, "url": url, "median_ms": round(median, 3), "p95_ms": round(p95, 3),
            "queries": len(explained), "sql_execution_ms": round(execution, 3),
            "sql_planning_ms": round(planning, 3), "main_query_execution_ms": round(main_exec, 3),
            "budget_ms": round(budget, 3), "within_target": median <= budget,
        })
    print(
        "\nmedian/p95: whole request through Django's test client; SQL exec/plan: sum over the "
        "endpoint's queries of PostgreSQL's EXPLAIN ANALYZE execution/planning time (median of "
        f"{args.explain_runs} runs); budget: 2 × (SQL exec + plan + empty request)."
    )
    if args.json:
        print(json.dumps({"empty_request_median_ms": round(empty_median, 3), "endpoints": figures},
                         indent=2))
    if not args.keep:
        User.objects.filter(username__startswith="bench_stats_").delete()
    return 0 if all(f["within_target"] for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
