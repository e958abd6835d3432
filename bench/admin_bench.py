"""How fast the support admin's pages are on a big database (issue 8).

    DATABASE_URL=postgres://…/hl_bench python manage.py seed_demo --users 10000 \
        --transactions-per-user 100                      # ~1,000,000 transactions, once
    DATABASE_URL=postgres://…/hl_bench python -m bench.admin_bench [--repeat 5]

Logs in as a superuser (created if missing) with Django's test client, requests each admin page
`--repeat` times and prints, per page: the number of SQL queries, the median and worst
wall-clock time of the whole request, and the slowest single query. Nothing is asserted: it is
a measurement, not a test. Use a dedicated database — it adds one staff user.
"""

import argparse
import os
import statistics
import sys
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "household_ledger.settings_test")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from accounts.models import User
    from ledger.models import Category, RecurringTransaction, Transaction

    setup_test_environment()
    total = Transaction.objects.order_by().count()
    users = User.objects.count()
    print(f"database {connection.settings_dict['NAME']}: {total:,} transactions, {users:,} users")

    staff, _ = User.objects.get_or_create(
        username="bench-admin",
        defaults={"is_staff": True, "is_superuser": True, "email": "bench-admin@example.com"},
    )
    client = Client()
    client.force_login(staff)

    sample_user = User.objects.filter(transactions__isnull=False).order_by("date_joined").first()
    food = Category.objects.get(ledger=None, name="식비")
    rule = RecurringTransaction.objects.order_by("created_at").first()
    pages = [
        ("transactions", "/admin/ledger/transaction/"),
        ("transactions, expense", "/admin/ledger/transaction/?type__exact=expense"),
        ("transactions, 식비", f"/admin/ledger/transaction/?category={food.pk}"),
        ("transactions, from a rule", "/admin/ledger/transaction/?from_rule=yes"),
        ("transactions, one year", "/admin/ledger/transaction/?date__year=2024"),
        (
            "transactions, one month",
            "/admin/ledger/transaction/?date__year=2024&date__month=7",
        ),
    ]
    if sample_user:
        pages += [
            (
                "transactions, one user",
                f"/admin/ledger/transaction/?user__id__exact={sample_user.pk}",
            ),
            ("transactions, search email", f"/admin/ledger/transaction/?q={sample_user.email}"),
            ("users", "/admin/accounts/user/"),
            ("users, search email", f"/admin/accounts/user/?q={sample_user.email}"),
            ("user detail (stats panel)", f"/admin/accounts/user/{sample_user.pk}/change/"),
        ]
    pages += [("recurring rules", "/admin/ledger/recurringtransaction/")]
    if rule:
        pages.append(("rule detail", f"/admin/ledger/recurringtransaction/{rule.pk}/change/"))
    pages += [("categories", "/admin/ledger/category/")]

    print(f"{'page':32} {'queries':>7} {'median ms':>10} {'max ms':>8} {'slowest SQL ms':>15}")
    failed = False
    for label, url in pages:
        timings, slowest, queries = [], 0.0, 0
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                try:
                    response = client.get(url)
                except Exception as error:  # noqa: BLE001 - report and go on to the next page
                    print(f"{label:32} failed: {error!r}")
                    failed = True
                    break
                timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                print(f"{label:32} HTTP {response.status_code}")
                failed = True
                break
            queries = len(captured.captured_queries)
            slowest = max([slowest] + [float(q["time"]) * 1000 for q in captured])
        else:
            print(
                f"{label:32} {queries:7d} {statistics.median(timings):10.1f} "
                f"{max(timings):8.1f} {slowest:15.1f}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
