"""Benchmark of the IndexedDB import: time and peak memory for a generated large backup.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/household_ledger \\
    REDIS_URL=redis://127.0.0.1:6379/0 \\
    python bench/import_benchmark.py [--rows 100000] [--format spa-v1|dexie]

Generates a backup of `--rows` transactions (the SPA's backup by default; `dexie` adds
categories and 50 recurring rules with linked transactions), creates a throw-away user,
and runs `manage.py import_indexeddb` on it in a child process — the support staff's real
path, Django start-up included — twice: the first import, then a re-import (all skipped).
It prints the wall time and the child's peak resident memory (ru_maxrss) of each, then
deletes the user. The database must be migrated. Not a test: it only prints figures.
Target on the development machine: under 20 s and 300 MB for 100,000 transactions.
"""

import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CATEGORIES = ["식비", "🍽️ 식비", "카페", "교통비", "생필품", "쇼핑", "월급", "기타", "취미", "음악"]
WORDS = ["점심", "커피", "버스", "마트", "편의점", "택시", "저녁", "간식", "책", "영화"]


def _rows(count: int, rng: random.Random, rule_ids: list[int]):
    start = datetime.datetime(2015, 1, 1, 15, tzinfo=datetime.UTC)
    for i in range(count):
        moment = start + datetime.timedelta(days=rng.randrange(3800), hours=rng.choice([0, 3]))
        linked = rule_ids and i % 40 == 0
        income = i % 25 == 0
        yield {
            "id": str(uuid.UUID(int=rng.getrandbits(128))) if not rule_ids else i + 1,
            "description": f"{rng.choice(WORDS)} {i}",
            "amount": rng.choice([rng.randrange(1000, 90000), float(rng.randrange(100, 999))]),
            "type": "income" if income else "expense",
            "date": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "category": rng.choice(CATEGORIES),
            "status": "confirmed",
            # A linked row: rule i % 50 on a date no other row of that rule uses.
            "recurring_id": rule_ids[(i // 40) % len(rule_ids)] if linked else None,
        }


def generate(path: Path, *, rows: int, fmt: str, seed: int = 7) -> None:
    """Write the backup row by row, so the generator itself needs little memory."""
    rng = random.Random(seed)
    rule_ids = list(range(1, 51)) if fmt == "dexie" else []
    with path.open("w", encoding="utf-8") as out:
        if fmt == "spa-v1":
            out.write('{"version":1,"exportDate":"2025-08-02T09:26:10.799Z","transactions":[\n')
        else:
            rules = [
                {
                    "id": rid,
                    "template_name": f"정기 {rid}",
                    "description": "",
                    "amount": 10000,
                    "type": "expense",
                    "category": "구독료",
                    "frequency": "monthly",
                    "start_date": "2015-01",
                    "end_date": None,
                    "day_of_month": str(rid % 28 + 1),
                    "is_active": 1,
                    "is_variable_amount": 0,
                }
                for rid in rule_ids
            ]
            categories = [
                {"id": n + 1, "name": name, "emoji": ""}
                for n, name in enumerate(sorted(set(CATEGORIES)))
            ]
            out.write(
                '{"formatName":"dexie","formatVersion":1,"data":{"databaseName":"ledgerDB",'
                '"databaseVersion":4,"tables":[],"data":['
            )
            out.write(
                json.dumps(
                    {"tableName": "categories", "inbound": True, "rows": categories},
                    ensure_ascii=False,
                )
                + ","
            )
            out.write(
                json.dumps(
                    {"tableName": "recurring_transactions", "inbound": True, "rows": rules},
                    ensure_ascii=False,
                )
                + ","
            )
            out.write('{"tableName":"transactions","inbound":true,"rows":[\n')
        seen_rule_dates = set()
        first = True
        for row in _rows(rows, rng, rule_ids):
            if row["recurring_id"] is not None:
                key = (row["recurring_id"], row["date"][:10])
                if key in seen_rule_dates:
                    row["recurring_id"] = None
                seen_rule_dates.add(key)
            out.write(("" if first else ",\n") + json.dumps(row, ensure_ascii=False))
            first = False
        out.write("\n]}" if fmt == "spa-v1" else "\n]}]}}")


def run_import(path: Path, user: str, *, env: dict, rows: int) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MB) of `manage.py import_indexeddb` in a child process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "import_indexeddb",
                str(path),
                "--user",
                user,
                "--max-rows",
                str(max(rows, 500_000) + 100),
                "--no-progress",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if child.returncode != 0:
        sys.exit(f"import failed:\n{stdout}\n{stderr}")
    return elapsed, usage.ru_maxrss / 1024, stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=["spa-v1", "dexie"], default="spa-v1")
    args = parser.parse_args()

    env = {**os.environ}
    env.setdefault("DJANGO_SETTINGS_MODULE", "household_ledger.settings")
    env.setdefault("DJANGO_SECRET_KEY", "benchmark-only-not-a-secret")
    env.setdefault("DJANGO_DEBUG", "false")  # DEBUG would keep every SQL query in memory
    if not env.get("DATABASE_URL") or not env.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (a migrated PostgreSQL database) and REDIS_URL.")
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from accounts.models import User
    from ledger.models import Transaction

    clerk_id = f"user_bench_{uuid.uuid4().hex[:12]}"
    user = User.objects.create(clerk_user_id=clerk_id, username=clerk_id)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"bench-{args.format}-{args.rows}.json"
            generate(path, rows=args.rows, fmt=args.format)
            size_mb = path.stat().st_size / 1024 / 1024
            print(f"generated {args.rows:,} transactions ({args.format}), {size_mb:.1f} MB")
            first_time, first_peak, _ = run_import(path, clerk_id, env=env, rows=args.rows)
            imported = Transaction.objects.filter(ledger__personal_for=user).count()
            print(
                f"import:    {first_time:6.2f} s   peak RSS {first_peak:6.1f} MB   "
                f"({imported:,} transactions in the database)"
            )
            again_time, again_peak, _ = run_import(path, clerk_id, env=env, rows=args.rows)
            print(
                f"re-import: {again_time:6.2f} s   peak RSS {again_peak:6.1f} MB   "
                f"(all skipped; still "
                f"{Transaction.objects.filter(ledger__personal_for=user).count():,})"
            )
            target = "met" if first_time < 20 and first_peak < 300 else "NOT met"
            print(f"target (< 20 s, < 300 MB): {target}")
    finally:
        user.delete()


if __name__ == "__main__":
    main()
