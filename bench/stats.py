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
from decimal import Decimal

HEAVY_USER = "bench_stats_heavy"
BACKGROUND_PREFIX = "bench_stats_bg_"
SEED_CHUNK = 10_000  # rows per call of the transaction service


def _configure_environment():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "household_ledger.settings")
    # A throwaway process: a random key (nothing it signs outlives it), tasks inline, no Redis.
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    # The test client speaks plain http; production settings would redirect it to https.
    os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
    # Hundreds of requests a second from one user: measure the endpoints, not the throttle.
    os.environ.setdefault("THROTTLE_RATE_USER", "100000/s")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "Set DATABASE_URL to a PostgreSQL database of its own, e.g. "
            "postgres://postgres@127.0.0.1:5432/hl_bench"
        )


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


def _seed(*, transactions: int, years: int, background_users: int, background_total: int):
    from django.db import connection

    from accounts.models import User
    from ledger.dates import add_months, local_today
    from ledger.models import Category, RecurringTransaction, Transaction
    from ledger.services.ledgers import personal_ledger
    from ledger.services.transactions import transaction_bulk_create_for_owners

    rng = random.Random(20250802)  # noqa: S311 - reproducible fake data
    User.objects.filter(username__startswith="bench_stats_").delete()

    heavy = User.objects.create(username=HEAVY_USER, clerk_user_id=HEAVY_USER)
    own_categories = [
        Category.objects.create(
            ledger=personal_ledger(user=heavy), name=f"내 카테고리 {i}", emoji="🧾"
        )
        for i in range(10)
    ]
    categories = [c.id for c in Category.objects.filter(ledger__personal_for__isnull=True)] + [
        c.id for c in own_categories
    ]
    today = local_today()
    first = add_months(today, -12 * years + 1)
    last = add_months(today, 2) - datetime.timedelta(days=1)  # this month and the next
    span = (last - first).days + 1
    for i, day in enumerate((1, 10, 25, 31)):
        RecurringTransaction.objects.create(
            ledger=personal_ledger(user=heavy),
            template_name=f"정기 {i}",
            amount=Decimal(10000 * (i + 1)),
            type="income" if i == 0 else "expense",
            start_date=first,
            day_of_month=day,
        )

    background = User.objects.bulk_create(
        User(username=f"{BACKGROUND_PREFIX}{i}", clerk_user_id=f"{BACKGROUND_PREFIX}{i}")
        for i in range(background_users)
    )
    ledger_of = {user.id: personal_ledger(user=user).pk for user in [heavy, *background]}
    # Rows of all users interleaved in random order, as years of inserts leave them: the
    # heavy user's rows are spread over the table, not packed together.
    owners = [heavy.id] * transactions + [
        background[i % background_users].id for i in range(background_total)
    ]
    rng.shuffle(owners)

    def row(user_id):
        day = first + datetime.timedelta(days=rng.randrange(span))
        income = rng.random() < 0.08
        amount = (
            Decimal(rng.randrange(100_000, 5_000_000, 10))
            if income
            else Decimal(rng.randrange(1_000, 300_000, 10))
        )
        return Transaction(
            ledger_id=ledger_of[user_id],
            created_by_id=user_id,
            date=day,
            description="bench",
            amount=amount,
            type="income" if income else "expense",
            category_id=None if rng.random() < 0.05 else rng.choice(categories),
            status="confirmed" if day <= today else "scheduled",
        )

    # Through the transaction service, as every writer: it keeps the month summary and the
    # ledgers' counts that the stats read.
    started = time.perf_counter()
    for start in range(0, len(owners), SEED_CHUNK):
        transaction_bulk_create_for_owners(
            transactions=[row(owner) for owner in owners[start : start + SEED_CHUNK]]
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE ledger_transaction")
        cursor.execute("VACUUM ANALYZE ledger_monthsummary")
    print(
        f"seeded {transactions:,} transactions for {HEAVY_USER} from {first} to {last} and "
        f"{background_total:,} for {background_users} other users "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return heavy


# --- Measuring ----------------------------------------------------------------------------------


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _ms(function) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def _get(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return response


def _run_sql(statements):
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
            cursor.fetchall()


def _explain(sql: str, *, repeat: int):
    """Median execution and planning time (ms) of `sql`, its plan, and whether JIT ran."""
    from django.db import connection

    executions, plannings, result = [], [], None
    with connection.cursor() as cursor:
        for _ in range(repeat):
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
            [result] = cursor.fetchone()[0]
            executions.append(result["Execution Time"])
            plannings.append(result["Planning Time"])
    return statistics.median(executions), statistics.median(plannings), result


def _scan_nodes(plan) -> list[str]:
    nodes = []
    if plan.get("Relation Name") == "ledger_transaction":
        how = plan["Node Type"]
        if plan.get("Index Name"):
            how += f" {plan['Index Name']}"
        nodes.append(how)
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
        _get(client, url)
    return [q["sql"] for q in captured.captured_queries if '"ledger_' in q["sql"]]


def _endpoints(today: datetime.date, years: int):
    from ledger.dates import add_months, month_end

    year_ago = add_months(today, -11)
    all_time = add_months(today, -12 * years + 1)
    return [
        ("summary (this month)", "/stats/summary"),
        ("summary (1 year)", f"/stats/summary?date_from={year_ago}&date_to={month_end(today)}"),
        ("monthly", f"/stats/monthly/{today.year}/{today.month}"),
        (
            "monthly + projected",
            f"/stats/monthly/{today.year}/{today.month}?include_projected=true",
        ),
        ("category (this month)", "/stats/category"),
        ("category (5 years)", f"/stats/category?date_from={all_time}&date_to={month_end(today)}"),
        ("assets (all time)", "/stats/assets"),
        ("trend (12 months)", "/stats/trend?months=12"),
        ("trend (60 months)", "/stats/trend?months=60"),
    ]


def _measure(client, name, url, *, repeat, explain_runs):
    """Interleave the endpoint, the empty request and the endpoint's raw SQL round by round,
    so a busy machine slows all three alike."""
    statements = _ledger_sql(client, url)
    for _ in range(3):  # warm up
        _get(client, url), _get(client, "/bench/empty"), _run_sql(statements)
    request, empty, sql = [], [], []
    for _ in range(repeat):
        request.append(_ms(lambda: client.get(url)))
        empty.append(_ms(lambda: client.get("/bench/empty")))
        sql.append(_ms(lambda: _run_sql(statements)))
    explained = [(s, *_explain(s, repeat=explain_runs)) for s in statements]
    main_sql, main_exec, main_plan_ms, main_result = max(explained, key=lambda item: item[1])
    median, raw_sql, empty_median = (statistics.median(v) for v in (request, sql, empty))
    budget = 2 * (raw_sql + empty_median)
    return {
        "endpoint": name,
        "url": url,
        "median_ms": round(median, 2),
        "p95_ms": round(_percentile(request, 0.95), 2),
        "queries": len(statements),
        "raw_sql_ms": round(raw_sql, 2),
        "explain_execution_ms": round(sum(e for _, e, _, _ in explained), 2),
        "main_query_execution_ms": round(main_exec, 2),
        "main_query_planning_ms": round(main_plan_ms, 2),
        "main_query_scans": _scan_nodes(main_result["Plan"]),
        "jit": any("JIT" in result for *_, result in explained),
        "empty_request_ms": round(empty_median, 2),
        "budget_ms": round(budget, 2),
        "within_target": median <= budget,
        "main_sql": main_sql,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.stats", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument(
        "--background",
        type=int,
        default=300_000,
        help="transactions of other users, interleaved with the heavy user's",
    )
    parser.add_argument("--background-users", type=int, default=300)
    parser.add_argument("--requests", type=int, default=60, help="timed requests per endpoint")
    parser.add_argument("--explain-runs", type=int, default=7)
    parser.add_argument("--plans", action="store_true", help="print each main query's plan")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the seeded users")
    parser.add_argument(
        "--reuse", action="store_true", help="use the seeded user of a previous --keep run"
    )
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
    settings.ROOT_URLCONF = "bench.stats_urls"

    heavy = User.objects.filter(username=HEAVY_USER).first() if args.reuse else None
    if heavy is None:
        heavy = _seed(
            transactions=args.transactions,
            years=args.years,
            background_users=args.background_users,
            background_total=args.background,
        )
    client = APIClient()
    # Real Clerk tokens are not verified here: force_authenticate skips only the signature
    # check; the rest of the request (middleware, DRF, permissions) runs as in production.
    client.force_authenticate(user=heavy)

    header = (
        f"{'endpoint':<23}{'median':>9}{'p95':>9}{'queries':>8}{'raw SQL':>9}"
        f"{'EXPLAIN':>9}{'empty':>8}{'budget':>9}  target  main query's scans of transactions"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nload average before: {load} on {os.cpu_count()} CPUs")
    print(f"\n{header}\n{'-' * len(header)}")
    figures = []
    for name, url in _endpoints(local_today(), args.years):
        f = _measure(client, name, url, repeat=args.requests, explain_runs=args.explain_runs)
        figures.append(f)
        print(
            f"{name:<23}{f['median_ms']:>7.2f}ms{f['p95_ms']:>7.2f}ms{f['queries']:>8}"
            f"{f['raw_sql_ms']:>7.2f}ms{f['explain_execution_ms']:>7.2f}ms"
            f"{f['empty_request_ms']:>6.2f}ms{f['budget_ms']:>7.2f}ms  "
            f"{'ok    ' if f['within_target'] else 'OVER  '}  {', '.join(f['main_query_scans'])}"
            + ("  (JIT)" if f["jit"] else "")
        )
        if args.plans:
            print(_text_plan(f["main_sql"]), "\n")
    print(
        "\nmedian/p95: the whole authenticated request through Django's test client. raw SQL: "
        "the endpoint's own SQL sent\nthrough a cursor (round trips included). EXPLAIN: sum of "
        "PostgreSQL's EXPLAIN (ANALYZE, BUFFERS) execution time\nof those queries (median of "
        f"{args.explain_runs}). empty: an empty authenticated DRF request. budget: 2 × (raw SQL "
        "+ empty). Measured\nround-robin (endpoint, empty, SQL), so load on the machine "
        "affects all three alike."
    )
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.json:
        print(
            json.dumps([{k: v for k, v in f.items() if k != "main_sql"} for f in figures], indent=2)
        )
    if not args.keep:
        User.objects.filter(username__startswith="bench_stats_").delete()
    return 0 if all(f["within_target"] for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
