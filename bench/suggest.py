"""How good and how fast category suggestions are (`GET /categories/suggest`).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_bench python -m bench.suggest \\
        ../shared/fixtures/spa-backup-v1-2025-08-02.json \\
        ledger/tests/fixtures/spa-backup-own.json [--misses] [--latency]

Accuracy: each backup is imported (`POST /backup/import`) into a scratch user only to read its
rows as the import understands them (dates in Seoul, category names matched to the defaults
or created as own categories). Then the rows are replayed in date order (file order within a
day) for a second, empty user: for each categorized row, ask `GET /categories/suggest` with its
description, type and amount — knowing only the rows before it — then add the row with
`POST /transactions`. An own category is created right after the first row that uses it was
asked about (it did not exist yet when that row was typed). Printed: top-1 and top-3
accuracy, beside three baselines computed from the same earlier rows — the most frequent
category of the type, the category of the same description seen last, and day one (the same
question asked for a user with no history: built-in knowledge only).

Latency (`--latency`): one user with 30,000 transactions (and 100,000 of other users in the
same tables), written through `transaction_bulk_create` so the evidence is built as in
production; then medians of `GET /categories/suggest` (a different description each time)
and of `GET /auth/me` (the authenticated floor), requested in turn through Django's test
client with real signed Clerk tokens. Target: suggest ≤ 2 × the floor.

The database is created and migrated if needed. Use a database of its own: the seeded users
(`bench_suggest_*`) are replaced on every run and deleted at the end.
"""

import argparse
import collections
import datetime
import json
import os
import random
import secrets
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

from bench.http_bench import AZP, make_key_pair, mint

PREFIX = "bench_suggest_"


def _configure_environment(public_pem: str):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "household_ledger.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("THROTTLE_RATE_USER", "100000/s")
    os.environ.setdefault("THROTTLE_RATE_BACKUP", "100000/s")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["CLERK_JWT_KEY"] = public_pem
    os.environ["CLERK_AUTHORIZED_PARTIES"] = AZP
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "Set DATABASE_URL to a PostgreSQL database of its own, e.g. "
            "postgres://postgres@127.0.0.1:5432/hl_bench"
        )


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


class Clients:
    """A test client per user, with a real session token minted for it."""

    def __init__(self, key):
        self.key = key

    def user(self, name: str):
        from accounts.models import User

        user = User.objects.create(username=f"{PREFIX}{name}", clerk_user_id=f"{PREFIX}{name}")
        return user, self.client(user)

    def client(self, user):
        from django.test import Client

        return Client(HTTP_AUTHORIZATION=f"Bearer {mint(self.key, user.clerk_user_id)}")


def _check(response, status=200):
    assert response.status_code == status, (response.status_code, response.content[:300])
    return response


# --- accuracy -----------------------------------------------------------------------------------


def _rows_of(path: Path, clients: Clients):
    """The file's rows as the import reads them, in replay order (date, then file order)."""
    from ledger.models import Transaction

    source, client = clients.user(f"source_{secrets.token_hex(3)}")
    with path.open("rb") as handle:
        _check(client.post("/backup/import?mode=replace", {"file": handle}))
    position = {
        str(row.get("id")): index
        for index, row in enumerate(json.loads(path.read_text())["transactions"])
    }
    rows = list(
        Transaction.objects.filter(ledger__personal_for=source).values(
            "legacy_id",
            "date",
            "description",
            "amount",
            "type",
            "status",
            "category__name",
            "category__emoji",
            "category__user",
        )
    )
    rows.sort(key=lambda row: (row["date"], position.get(row["legacy_id"], len(position))))
    return rows


def _norm(text):
    from ledger.suggestion_grams import normalize

    return normalize(text)


def replay(path: Path, clients: Clients, *, show_misses: bool) -> dict:
    from ledger.models import Category
    from ledger.services.categories import category_create
    from ledger.services.ledgers import personal_ledger

    rows = _rows_of(path, clients)
    user, client = clients.user(f"replay_{secrets.token_hex(3)}")
    _, day_one = clients.user(f"dayone_{secrets.token_hex(3)}")
    categories = {c.name: c for c in Category.objects.filter(ledger=None)}
    hits = collections.Counter()
    asked = 0
    seen_by_type = collections.defaultdict(collections.Counter)
    last_by_description = {}
    misses = []

    def top(answer):
        return [row["category"]["name"] for row in answer]

    for row in rows:
        name = row["category__name"]
        query = {"description": row["description"], "type": row["type"]}
        if row["amount"] is not None:
            query["amount"] = str(row["amount"])
        if name is not None:
            asked += 1
            answer = top(_check(client.get("/categories/suggest", query)).json())
            fresh = top(_check(day_one.get("/categories/suggest", query)).json())
            hits["top1"] += answer[:1] == [name]
            hits["top3"] += name in answer
            hits["day_one_top1"] += fresh[:1] == [name]
            hits["day_one_top3"] += name in fresh
            counts = seen_by_type[row["type"]]
            hits["most_frequent"] += bool(counts) and counts.most_common(1)[0][0] == name
            key = (row["type"], _norm(row["description"]))
            hits["same_description"] += last_by_description.get(key) == name
            if answer[:1] != [name]:
                misses.append((row["date"], row["type"], row["description"], name, answer))
            counts[name] += 1
            last_by_description[key] = name
            if name not in categories:  # an own category: created once it was asked about
                categories[name] = category_create(
                    ledger=personal_ledger(user=user), name=name, emoji=row["category__emoji"] or ""
                )
        body = {
            "date": row["date"].isoformat(),
            "description": row["description"],
            "amount": row["amount"],
            "type": row["type"],
            "status": row["status"],
            "category": str(categories[name].id) if name is not None else None,
        }
        _check(client.post("/transactions", body, content_type="application/json"), 201)

    figures = {label: count / asked for label, count in hits.items()} if asked else {}
    figures.update(rows=len(rows), asked=asked)
    print(f"\n{path}: {len(rows)} rows, {asked} with a category asked in date order")
    print(f"  suggest          top-1 {figures['top1']:6.1%}   top-3 {figures['top3']:6.1%}")
    print(
        f"  day one (no history, knowledge only)"
        f"  top-1 {figures['day_one_top1']:6.1%}   top-3 {figures['day_one_top3']:6.1%}"
    )
    print(f"  baseline: most frequent category of the type   top-1 {figures['most_frequent']:6.1%}")
    print(
        f"  baseline: category of the same description seen last   "
        f"top-1 {figures['same_description']:6.1%}"
    )
    if show_misses:
        print(f"  misses at top-1 ({len(misses)}):")
        for day, kind, description, truth, answer in misses:
            mark = "top-3" if truth in answer else "     "
            print(f"    {day} {kind:<7} {description!r:<34} is {truth:<6} {mark} got {answer}")
    return figures


# --- latency ------------------------------------------------------------------------------------

PEOPLE = ["엄마", "아빠", "동생", "민수", "지영", "팀장님", "친구들", "재형이", "명균이형", "혼자"]
MEALS = [
    "김밥",
    "국밥",
    "짜장면",
    "돈까스",
    "마라탕",
    "떡볶이",
    "치킨",
    "피자",
    "고기",
    "칼국수",
    "초밥",
    "쌀국수",
    "버거",
    "샐러드",
    "닭갈비",
    "냉면",
    "순대국",
    "라멘",
]
PLACES = [
    "쿠팡",
    "다이소",
    "이마트",
    "올리브영",
    "스타벅스",
    "메가커피",
    "세븐일레븐",
    "GS25",
    "교통카드",
    "택시",
    "CGV",
    "넷플릭스",
    "통신비",
    "가스비",
    "관리비",
    "월세",
    "아이밀",
    "카페 CHIPS 아아",
    "빽다방",
    "병원",
    "약국",
    "미용실",
    "유니클로",
    "무신사",
    "학원",
]
# Suggest requests: half what the household wrote before, half new words.
PROBES = [
    "아이밀",
    "스타벅스 라떼",
    "엄마랑 김밥",
    "쿠팡 휴지",
    "새로운 가게",
    "두통약",
    "동생이랑 마라탕",
    "전기세",
    "카페 CHIPS",
    "택시 새벽",
    "처음 보는 식당 이름",
    "월급",
]


def _description(rng: random.Random, index: int) -> str:
    roll = rng.random()
    if roll < 0.45:
        return rng.choice(PLACES)
    if roll < 0.8:
        return f"{rng.choice(PEOPLE)}랑 {rng.choice(MEALS)}"
    # the long tail: one-off notes
    return f"{rng.choice(MEALS)} {rng.choice(PLACES)} 메모{index % 997}"


def _seed(clients: Clients, *, transactions: int, background_users: int, background_each: int):
    from ledger.models import Category, Transaction
    from ledger.services.ledgers import personal_ledger
    from ledger.services.transactions import transaction_bulk_create

    rng = random.Random(20250802)
    defaults = list(Category.objects.filter(ledger=None))
    started = time.perf_counter()

    def fill(user, count):
        own = [
            Category.objects.create(ledger=personal_ledger(user=user), name=f"내 분류 {i}")
            for i in range(5)
        ]
        choices = defaults + own
        # A description keeps its category mostly (a household's habit), sometimes not.
        habit = {}
        first = datetime.date(2021, 1, 1)
        rows = []
        for index in range(count):
            description = _description(rng, index)
            category = habit.setdefault(description, rng.choice(choices))
            if rng.random() < 0.1:
                category = rng.choice(choices)
            rows.append(
                Transaction(
                    ledger=personal_ledger(user=user),
                    date=first + datetime.timedelta(days=index * 1826 // count),
                    description=description,
                    amount=Decimal(rng.randrange(1000, 90000, 10)),
                    type="income" if rng.random() < 0.06 else "expense",
                    category=None if rng.random() < 0.05 else category,
                )
            )
        transaction_bulk_create(ledger=personal_ledger(user=user), transactions=rows)

    for i in range(background_users):
        user, _ = clients.user(f"bg_{i}")
        fill(user, background_each)
    heavy, client = clients.user("heavy")
    fill(heavy, transactions)
    print(
        f"\nseeded {transactions:,} transactions for the heavy user and "
        f"{background_users * background_each:,} for {background_users} others "
        f"(evidence included) in {time.perf_counter() - started:.1f} s"
    )
    return heavy, client


def latency(clients: Clients, *, transactions: int, requests: int, reuse: bool) -> dict:
    from django.db import connection

    from accounts.models import User
    from ledger.models import SuggestionGram

    heavy = User.objects.filter(username=f"{PREFIX}heavy").first() if reuse else None
    if heavy is None:
        heavy, client = _seed(
            clients, transactions=transactions, background_users=20, background_each=5000
        )
    else:
        client = clients.client(heavy)
    with connection.cursor() as cursor:
        # as autovacuum does after a bulk write: the planner sees the tables as they are
        cursor.execute("VACUUM ANALYZE ledger_suggestiongram, ledger_category")
    keys = SuggestionGram.objects.filter(ledger__personal_for=heavy).count()
    urls = [f"/categories/suggest?description={probe}&type=expense" for probe in PROBES]
    for url in urls:  # warm
        _check(client.get(url)), _check(client.get("/auth/me"))
    wall = {"floor": [], "suggest": []}
    cpu = {"floor": [], "suggest": []}  # this process's CPU: less swayed by a busy machine
    for index in range(requests):
        for name, url in (("floor", "/auth/me"), ("suggest", urls[index % len(urls)])):
            started, started_cpu = time.perf_counter(), time.process_time()
            _check(client.get(url))
            wall[name].append((time.perf_counter() - started) * 1000)
            cpu[name].append((time.process_time() - started_cpu) * 1000)
    figures = {
        f"{kind}_{name}_ms": statistics.median(values[name])
        for kind, values in (("wall", wall), ("cpu", cpu))
        for name in values
    }
    figures.update(
        suggest_p95_ms=sorted(wall["suggest"])[int(0.95 * (requests - 1))], evidence_rows=keys
    )
    ratio = figures["wall_suggest_ms"] / figures["wall_floor_ms"]
    cpu_ratio = figures["cpu_suggest_ms"] / figures["cpu_floor_ms"]
    print(
        f"latency, {transactions:,}-row user ({keys:,} evidence rows), median of {requests}: "
        f"/categories/suggest {figures['wall_suggest_ms']:.2f} ms (p95 "
        f"{figures['suggest_p95_ms']:.2f}), /auth/me {figures['wall_floor_ms']:.2f} ms → "
        f"{ratio:.2f}× the floor (target ≤ 2×); Django's CPU per request "
        f"{figures['cpu_suggest_ms']:.2f} vs {figures['cpu_floor_ms']:.2f} ms → "
        f"{cpu_ratio:.2f}×; load average {os.getloadavg()[0]:.2f}"
    )
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.suggest", description=__doc__.split("\n")[0]
    )
    parser.add_argument("backups", nargs="*", type=Path, help="SPA backup files to replay")
    parser.add_argument("--misses", action="store_true", help="list the top-1 misses")
    parser.add_argument("--latency", action="store_true", help="also time a 30k-row user")
    parser.add_argument("--transactions", type=int, default=30_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the seeded users")
    parser.add_argument(
        "--reuse", action="store_true", help="time the heavy user a previous --keep run seeded"
    )
    args = parser.parse_args(argv)

    key, public_pem = make_key_pair()
    _configure_environment(public_pem)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    from accounts.models import User

    _ensure_database()
    call_command("migrate", verbosity=0)
    setup_test_environment()  # lets the test client's `testserver` host in
    if not args.reuse:
        User.objects.filter(username__startswith=PREFIX).delete()
    clients = Clients(key)
    try:
        for path in args.backups:
            replay(path, clients, show_misses=args.misses)
        if args.latency:
            latency(
                clients, transactions=args.transactions, requests=args.requests, reuse=args.reuse
            )
    finally:
        if not args.keep:
            User.objects.filter(username__startswith=PREFIX).delete()
    return 0


if __name__ == "__main__":
    sys.exit(main())
