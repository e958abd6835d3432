"""Seed realistic demo data fast, for benchmarks: `manage.py seed_demo --users 1000 ...`.

Users and rules go through `bulk_create`; transactions through the transactions' one writer
(`transaction_bulk_create_for_owners`), in chunks.
"""

import datetime
import random
import time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from ledger.dates import add_months, local_today
from ledger.models import Category, RecurringTransaction, Transaction
from ledger.services.ledgers import personal_ledger
from ledger.services.transactions import transaction_bulk_create_for_owners

# Rows per write: bounded memory, few round trips.
_CHUNK = 20_000

DEMO_PREFIX = "user_demo_"
HEAVY_USER_ID = f"{DEMO_PREFIX}heavy"
YEARS = 5

# (category name, typical won amounts) — rough shapes of a Korean household's spending.
EXPENSES = [
    ("식비", (6_000, 45_000)),
    ("간식류", (1_500, 9_000)),
    ("카페", (3_000, 7_500)),
    ("교통비", (1_400, 25_000)),
    ("문화생활", (12_000, 80_000)),
    ("취미생활", (10_000, 120_000)),
    ("의류", (19_900, 159_000)),
    ("생필품", (2_000, 60_000)),
    ("미용", (12_000, 60_000)),
    ("의료비", (4_000, 90_000)),
    ("교육", (20_000, 300_000)),
    ("통신비", (33_000, 89_000)),
    ("구독료", (4_900, 17_000)),
    ("공과금", (20_000, 150_000)),
    ("기타", (1_000, 50_000)),
]
DESCRIPTIONS = {
    "식비": ["점심", "저녁 외식", "장보기", "배달 치킨", "김밥천국"],
    "카페": ["스타벅스", "메가커피", "브루인 커피"],
    "교통비": ["지하철", "버스", "택시", "주유"],
}


class Command(BaseCommand):
    help = "Seed demo users with categories, rules and transactions over five years (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=100)
        parser.add_argument("--transactions-per-user", type=int, default=1000)
        parser.add_argument("--heavy-user-transactions", type=int, default=0)
        parser.add_argument("--seed", type=int, default=20250802)
        parser.add_argument(
            "--reset", action="store_true", help="delete earlier demo users and their data first"
        )

    def handle(self, *args, **options):
        rng = random.Random(options["seed"])
        started = time.perf_counter()
        User = get_user_model()
        if options["reset"]:
            deleted, _ = User.objects.filter(clerk_user_id__startswith=DEMO_PREFIX).delete()
            self.stdout.write(f"removed earlier demo data ({deleted} rows)")
        elif User.objects.filter(clerk_user_id__startswith=DEMO_PREFIX).exists():
            raise CommandError("Demo users exist already; pass --reset to replace them.")

        categories = {c.name: c.id for c in Category.objects.filter(ledger=None)}
        plan = [
            (f"{DEMO_PREFIX}{i:06d}", options["transactions_per_user"])
            for i in range(options["users"])
        ]
        if options["heavy_user_transactions"]:
            plan.append((HEAVY_USER_ID, options["heavy_user_transactions"]))

        with transaction.atomic():
            users = self._create_users(User, [clerk_id for clerk_id, _ in plan])
            self._create_rules(users, categories, rng)
            total = self._create_transactions(users, plan, categories, rng)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE ledger_transaction")
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"seeded {len(users)} users, {total} transactions in {elapsed:.1f} s"
            )
        )

    def _create_users(self, User, clerk_ids):
        now = timezone.now()
        users = [
            User(
                clerk_user_id=clerk_id,
                username=clerk_id,
                email=f"{clerk_id}@demo.invalid",
                date_joined=now,
            )
            for clerk_id in clerk_ids
        ]
        for user in users:
            user.set_unusable_password()
        User.objects.bulk_create(users, batch_size=2000)
        return users

    def _create_rules(self, users, categories, rng):
        start = add_months(local_today(), -12 * YEARS)
        rules = []
        for user in users:
            ledger = personal_ledger(user=user)
            rules.append(
                RecurringTransaction(
                    ledger=ledger,
                    created_by=user,
                    template_name="월급",
                    description="월급",
                    amount=Decimal(3_100_000),
                    type="income",
                    category_id=categories.get("월급"),
                    start_date=start,
                    day_of_month=25,
                )
            )
            rules.append(
                RecurringTransaction(
                    ledger=ledger,
                    created_by=user,
                    template_name="월세",
                    description="월세",
                    amount=Decimal(550_000),
                    type="expense",
                    category_id=categories.get("월세"),
                    start_date=start,
                    day_of_month=rng.choice([1, 5, 10, 31]),
                )
            )
        RecurringTransaction.objects.bulk_create(rules, batch_size=5000)

    def _create_transactions(self, users, plan, categories, rng):
        """Random rows over five years, written through the transactions' one writer in
        chunks (bounded memory)."""
        today = local_today()
        first_day = today - datetime.timedelta(days=365 * YEARS)
        span = (today - first_day).days
        total, chunk = 0, []
        for user, (_, count) in zip(users, plan, strict=True):
            ledger_id = personal_ledger(user=user).pk
            for _ in range(count):
                day = first_day + datetime.timedelta(days=rng.randrange(span + 1))
                if rng.random() < 0.04:
                    name = description = "월급"
                    kind, amount = "income", rng.randrange(2_000_000, 4_000_000, 10)
                else:
                    name, (low, high) = rng.choice(EXPENSES)
                    kind, amount = "expense", rng.randrange(low, high, 100)
                    description = rng.choice(DESCRIPTIONS.get(name, [name]))
                chunk.append(
                    Transaction(
                        ledger_id=ledger_id,
                        created_by_id=user.id,
                        date=day,
                        description=description,
                        amount=Decimal(amount),
                        type=kind,
                        category_id=categories.get(name),
                        status="scheduled" if day > today else "confirmed",
                    )
                )
                if len(chunk) >= _CHUNK:
                    total += len(transaction_bulk_create_for_owners(transactions=chunk))
                    chunk = []
                    if total % 100_000 < _CHUNK:
                        self.stdout.write(f"  … {total} transactions")
        if chunk:
            total += len(transaction_bulk_create_for_owners(transactions=chunk))
        return total
