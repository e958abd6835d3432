"""HTTP load benchmark of the real service (issues 10, 17, 20 and 22).

    python -m bench.http_bench [--seed] [--duration 10] [--connections 8] [--runs 1]
        [--workers 2 --threads 4] [--worker-class gthread] [--worker-connections 4] [--only REGEX]

It starts gunicorn with the production config (`gunicorn.conf.py`, DEBUG off) on a free
loopback port against PostgreSQL (`DATABASE_URL`: a database of its own, since the bench deletes
and re-imports its users), mints Clerk-shaped RS256 tokens with a key pair made for this run
(networkless: `CLERK_JWT_KEY`), and drives a closed-loop load with `wrk` (Debian package) from
a separate process, one endpoint at a time, each for `--duration` seconds after a short
warm-up.

Who is measured:

- two realistic households in a table of 1.1 M rows (`--seed`: 1,000 ordinary users × 1,062
  through `manage.py seed_demo`, then VACUUM ANALYZE): "8k", 8,000 transactions over five years
  (≈ 130 a month), and "30k", 30,000 (≈ 500 a month). Each is deleted and imported anew through
  the product's import service (`backup_import` of the Dexie dump `bench.households` writes)
  and measured twice: **after import** — nothing in between but what the import itself does,
  as for a real user (autovacuum waits for 20 % of the table to change: until then rows have
  no visibility-map bits, so index-only scans visit their pages, and no planner statistics) —
  and **at rest**, after `VACUUM ANALYZE`;
- for each household also `GET /sync?since=<its revision>` (nothing new) and the month's
  calendar with `If-None-Match` (304): authentication plus the one query that reads the ledger
  and the caller's membership (`ledger.api.scope`), nothing else — so their ratio to the floor
  is what the membership check costs a request;
- for each household at rest, its full `/sync?since=0` snapshot walked page by page
  (`bench.sync_snapshot`): every transaction exactly once, and the workers' RSS sampled
  meanwhile against the allowance and bound of docs/reliability.md#memory;
- 200 random ordinary users (reads and a POST), and two anonymous references: a DRF "hello"
  (no auth, no DB) and hello plus the SELECT and Redis hit every authenticated request makes.

Within each user and phase the endpoints are measured round-robin, `--runs` rounds with fresh
connections, and the round with the lowest p50 counts; gunicorn runs with `--worker-connections`
equal to its threads, so wrk's connections spread evenly over the workers (with gunicorn's 1,000
they may all land on one, and that round's latencies double). Per
endpoint it prints requests/s, p50/p95/p99, errors, the PostgreSQL time of its slowest query
(`EXPLAIN (ANALYZE, BUFFERS)` of the SQL it really runs, with its heap fetches and a flag for a
sequential scan of a big table) and the p50 as a multiple of the same user's and phase's
authenticated floor (`GET /auth/me`), and the server's CPU per request (gunicorn plus its
PostgreSQL backends, from /proc) with the same ratio: on a shared machine latency moves with the
neighbours' load, CPU per request much less. Then every bar of issue 17 with ✓/✗ (the bars are
on p50) and every snapshot walk. The same goes to `bench/results/http-*.json`. The exit status
is 1 when a bar or a snapshot's bound is missed or a request failed.
"""

import argparse
import datetime
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bench import sync_snapshot

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
AZP = "http://localhost:5173"
WARM_UP_SECONDS = 3

# The 1.1 M-row table: ordinary users from seed_demo plus the two households.
SEED_USERS, SEED_ROWS_PER_USER = 1_000, 1_062
HOUSEHOLDS = (("8k", 8_000), ("30k", 30_000))
HOUSEHOLD_PREFIX = "user_bench_"
ORDINARY_PREFIX = "user_demo_0"  # seed_demo's ordinary users
ORDINARY_SAMPLE = 200
AFTER_IMPORT, AT_REST = "after import", "at rest"
POST_DESCRIPTION = "벤치마크 커피"

FLOOR = "GET /auth/me"
LIST = "GET /transactions?page_size=50"
BY_MONTH = "GET /transactions/by-month"
BY_DATE = "GET /transactions/by-date"
MONTHLY = "GET /stats/monthly"
ASSETS = "GET /stats/assets"
# Issue 22: an offline client's poll when nothing changed, and a calendar revalidation.
SYNC_NOTHING_NEW = "GET /sync (nothing new)"
NOT_MODIFIED = "GET /transactions/by-month (304)"
SNAPSHOT = "sync snapshot"  # a full `/sync?since=0` walk at rest: the workers' memory
# Issue 17: p50 ÷ the floor's p50, per household, after import and at rest alike.
BARS = {
    BY_DATE: {"8k": 1.5, "30k": 1.5},
    BY_MONTH: {"8k": 2.0, "30k": 3.0},
    LIST: {"8k": 2.0, "30k": 2.0},
    MONTHLY: {"8k": 2.0, "30k": 2.0},
    ASSETS: {"8k": 2.0, "30k": 2.0},
    SYNC_NOTHING_NEW: {"8k": 1.2, "30k": 1.2},
    NOT_MODIFIED: {"8k": 1.2, "30k": 1.2},
}


def make_key_pair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return key, public_pem


def mint(key, clerk_user_id, minutes=120):
    now = int(time.time())
    claims = {
        "sub": clerk_user_id,
        "iat": now,
        "nbf": now - 5,
        "exp": now + minutes * 60,
        "azp": AZP,
        "sid": f"sess_bench_{clerk_user_id}",
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "bench"})


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SERVER_APP_NAME = "hl-bench-server"  # PGAPPNAME of the server's connections
_TICKS = os.sysconf("SC_CLK_TCK")


class ServerCpu:
    """CPU seconds the server has used so far: gunicorn (the master, its workers and the
    workers it has reaped) plus the PostgreSQL backends of its connections (found by
    `application_name`). Divided by the requests of a run, it is what a request costs whatever
    else the machine is doing, which latency on a shared machine is not. A run during which a
    backend went away has no figure (its CPU went with it)."""

    def __init__(self, master_pid):
        self.master_pid = master_pid

    @staticmethod
    def _stat(pid):
        """(ppid, own CPU seconds, reaped children's CPU seconds) of a live process."""
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (
            int(fields[1]),
            (int(fields[11]) + int(fields[12])) / _TICKS,
            (int(fields[13]) + int(fields[14])) / _TICKS,
        )

    def _backend_pids(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s", [SERVER_APP_NAME]
            )
            return [pid for (pid,) in cursor.fetchall()]

    def snapshot(self) -> dict:
        """Key → CPU seconds: each gunicorn worker, the master with the workers it reaped
        ("gunicorn"), and each backend ("pg", pid)."""
        seconds = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                stat = self._stat(entry.name)
                if stat and stat[0] == self.master_pid:
                    seconds[int(entry.name)] = stat[1]
        master = self._stat(self.master_pid)
        seconds["gunicorn"] = master[1] + master[2] if master else 0.0
        for pid in self._backend_pids():
            stat = self._stat(pid)
            if stat:
                seconds[("pg", pid)] = stat[1]
        return seconds

    @staticmethod
    def used(before: dict, after: dict) -> float | None:
        """CPU seconds between two snapshots (a process new since `before` counts from 0);
        None when a backend of `before` is gone. A reaped worker's CPU is in "gunicorn"."""
        if any(isinstance(key, tuple) and key not in after for key in before):
            return None
        used = sum(cpu - before.get(key, 0.0) for key, cpu in after.items())
        # A worker reaped meanwhile: its whole life's CPU is now in "gunicorn"; what it had
        # used by `before` was counted then.
        return used - sum(cpu for key, cpu in before.items() if key not in after)


def server_env(public_pem, static_root):
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=env.get("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789abcdef"),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_STATIC_ROOT=str(static_root),
        DJANGO_SECURE_SSL_REDIRECT="false",
        CLERK_JWT_KEY=public_pem,
        CLERK_AUTHORIZED_PARTIES=AZP,
        REDIS_URL=env.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        # The production logging (gunicorn's access line and the request log, JSON on stdout)
        # stays on: it is part of what every request costs.
        # The user throttle keeps its per-request counter round trip, at a rate no run reaches.
        THROTTLE_RATE_USER="100000/s",
        PGAPPNAME=SERVER_APP_NAME,
        # Connections live through the run (production: 60 s, one reconnect a minute per
        # thread), so the CPU of a backend is not lost with it in the middle of a run.
        DATABASE_CONN_MAX_AGE="3600",
    )
    return env


def wait_ready(base, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not become ready at {base}")


def run_wrk(base, lines, duration, connections, workdir, cpu=None):
    request_file = Path(workdir) / "requests.tsv"
    request_file.write_text("\n".join("\t".join(line) for line in lines) + "\n")
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(ROOT / "bench" / "wrk_report.lua"),
        base,
        "--",
        str(request_file),
    ]
    before = cpu.snapshot() if cpu else None
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=duration + 60
    ).stdout
    used = cpu.used(before, cpu.snapshot()) if cpu else None
    figures = json.loads(output.strip().splitlines()[-1])
    seconds = figures["duration_us"] / 1e6
    return {
        "cpu_ms": None if used is None else round(used * 1000 / max(figures["requests"], 1), 3),
        "rps": round(figures["requests"] / seconds, 1),
        "requests": figures["requests"],
        "p50_ms": figures["p50_us"] / 1000,
        "p95_ms": figures["p95_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
        "max_ms": figures["max_us"] / 1000,
        # A run that completed no request failed too (a stalled or refusing server).
        "errors": figures["http_errors"]
        + figures["socket_errors"]
        + (0 if figures["requests"] else 1),
    }


def explain_slowest_query(path, method, token, body, etag=""):
    """Run the request in-process, EXPLAIN ANALYZE every SELECT it made, keep the slowest."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    with CaptureQueriesContext(connection) as captured:
        if method == "POST":
            client.post(
                path,
                data=body,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
        else:
            headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
            client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}", **headers)
    slowest = None
    statements = [sql for query in captured.captured_queries for sql in _statements(query["sql"])]
    with connection.cursor() as cursor:
        for sql in statements:
            if not sql.upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
            plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
            ms = plan["Execution Time"]
            if slowest is None or ms > slowest["pg_ms"]:
                slowest = {
                    "pg_ms": round(ms, 3),
                    "sql": sql[:300],
                    "seq_scan": _big_seq_scan(plan["Plan"]),
                    "heap_fetches": _heap_fetches(plan["Plan"]),
                    "top_node": plan["Plan"]["Node Type"],
                }
    return slowest or NO_PLAN


NO_PLAN = {"pg_ms": 0.0, "sql": None, "seq_scan": False, "heap_fetches": 0, "top_node": None}


def _statements(sql: str) -> list[str]:
    """The statements of one execute(), split on the semicolons outside quoted strings."""
    statements, start, quoted = [], 0, False
    for index, char in enumerate(sql):
        if char == "'":
            quoted = not quoted
        elif char == ";" and not quoted:
            statements.append(sql[start:index])
            start = index + 1
    statements.append(sql[start:])
    return [statement.strip() for statement in statements if statement.strip()]


BIG_TABLES = {"ledger_transaction", "accounts_user", "ledger_recurringtransaction"}


def _big_seq_scan(node) -> bool:
    """A sequential scan of one of the big tables (one of a few dozen categories is fine)."""
    if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") in BIG_TABLES:
        return True
    return any(_big_seq_scan(child) for child in node.get("Plans", []))


def _heap_fetches(node) -> int:
    """Heap visits of index-only scans: rows whose page the visibility map does not cover."""
    return node.get("Heap Fetches", 0) + sum(
        _heap_fetches(child) for child in node.get("Plans", [])
    )


# --- the database: seeding, the households' import, VACUUM ---------------------------------


def vacuum_analyze():
    """The whole database at rest, as autovacuum eventually leaves it; returns seconds.

    INDEX_CLEANUP ON: below 2 % of the pages VACUUM skips the indexes and leaves the deleted
    rows' line pointers, and a page holding one is never all-visible — the re-imported
    household's rows, filling those pages, would pay heap fetches no new user pays."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE, INDEX_CLEANUP ON)")
    return time.perf_counter() - started


def import_household(label, rows):
    """Delete the household and import it anew through the product's import service, with
    nothing after it: its rows are as a real user's just-imported rows."""
    from accounts.models import User
    from accounts.services.users import user_get_or_create_for_session
    from bench.households import household_backup
    from ledger.dates import local_today
    from ledger.services.backup import backup_import
    from ledger.services.ledgers import personal_ledger

    clerk_id = f"{HOUSEHOLD_PREFIX}{label}"
    User.objects.filter(clerk_user_id=clerk_id).delete()
    # The rest of the table at rest (and the previous run's rows of this household gone).
    vacuum_seconds = vacuum_analyze()
    user = user_get_or_create_for_session(clerk_user_id=clerk_id)
    raw = household_backup(rows=rows, today=local_today())
    started = time.perf_counter()
    report = backup_import(
        ledger=personal_ledger(user=user), file=io.BytesIO(raw.encode()), created_by=user
    )
    import_seconds = time.perf_counter() - started
    created = report.created
    print(
        f"{label}: VACUUM ANALYZE {vacuum_seconds:.1f} s, then backup_import of "
        f"{len(raw) / 1e6:.1f} MB: {created['transactions']:,} transactions, "
        f"{created['recurring_transactions']} rules, {created['categories']} category in "
        f"{import_seconds:.1f} s",
        flush=True,
    )
    return user, {
        "clerk_user_id": clerk_id,
        "transactions": created["transactions"],
        "rules": created["recurring_transactions"],
        "import_seconds": round(import_seconds, 2),
    }


def household_days(user):
    """Last month (its row count) and that month's busiest day (its row count)."""
    from django.db.models import Count

    from ledger.dates import add_months, local_today, month_end
    from ledger.models import Transaction

    first = add_months(local_today(), -1)
    month = Transaction.objects.filter(
        ledger__personal_for=user, date__range=(first, month_end(first))
    )
    busiest = month.values("date").annotate(n=Count("id")).order_by("-n", "date").first()
    return first, month.count(), busiest["date"], busiest["n"]


# --- what is measured ----------------------------------------------------------------------


def reads(month: datetime.date, day: datetime.date):
    y, m = month.year, month.month
    return [
        (FLOOR, "/auth/me"),
        (LIST, "/transactions?page_size=50"),
        (BY_MONTH, f"/transactions/by-month/{y}/{m}"),
        (BY_DATE, f"/transactions/by-date/{day.isoformat()}"),
        (MONTHLY, f"/stats/monthly/{y}/{m}"),
        (ASSETS, "/stats/assets"),
    ]


def conditional_cases(who, phase, base, token, user, month):
    """Issue 22's two cheap answers for one household: `/sync` from the ledger's current
    revision (nothing new) and the month's calendar revalidated with the ETag it answered."""
    from ledger.models import Ledger

    revision = Ledger.objects.get(personal_for=user).revision  # now, after the import
    by_month = f"/transactions/by-month/{month.year}/{month.month}"
    # The bench's own loopback server.
    request = urllib.request.Request(  # noqa: S310
        base + by_month, headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        etag = response.headers["ETag"]
    return [
        {
            "user": who,
            "phase": phase,
            "endpoint": SYNC_NOTHING_NEW,
            "lines": [("GET", f"/sync?since={revision}", token, "")],
        },
        {
            "user": who,
            "phase": phase,
            "endpoint": NOT_MODIFIED,
            "lines": [("GET", by_month, token, "", etag)],
        },
    ]


def snapshots(label, base, token, master_pid, info):
    """Walk the household's full `/sync` snapshot at the default and the largest page size."""
    from ledger.selectors.sync import DEFAULT_LIMIT, MAX_LIMIT

    walks = [
        sync_snapshot.walk(
            base=base,
            token=token,
            master_pid=master_pid,
            limit=limit,
            expected=info["transactions"],
        )
        for limit in (MAX_LIMIT, DEFAULT_LIMIT, MAX_LIMIT)
    ]
    # The first walk is not counted: a worker recycled by `max_requests` during the load before
    # would otherwise count its own warm-up (imports, connections: ~50 MB) as the snapshot's.
    walks = walks[1:]
    for walk in walks:
        print("  " + sync_snapshot.describe(label, walk), flush=True)
    return walks


def cases_for(who, phase, tokens, month, day, *, post=False):
    cases = [
        {
            "user": who,
            "phase": phase,
            "endpoint": name,
            "lines": [("GET", path, token, "") for token in tokens],
        }
        for name, path in reads(month, day)
    ]
    if post:
        body = json.dumps(
            {
                "date": day.isoformat(),
                "description": POST_DESCRIPTION,
                "amount": 4500,
                "type": "expense",
            }
        )
        cases.append(
            {
                "user": who,
                "phase": phase,
                "endpoint": "POST /transactions",
                "lines": [("POST", "/transactions", token, body) for token in tokens],
            }
        )
    return cases


ANONYMOUS = [
    {
        "user": "anonymous",
        "phase": AT_REST,
        "endpoint": "DRF hello (no auth, no DB)",
        "lines": [("GET", "/bench/hello", "", "")],
    },
    {
        "user": "anonymous",
        "phase": AT_REST,
        "endpoint": "hello + SELECT + Redis INCR",
        "lines": [("GET", "/bench/hello-round-trips", "", "")],
    },
]


def case_name(case):
    return f"{case['user']} {case['phase']} {case['endpoint']}"


def measure(cases, *, base, args, workdir, selected, cpu):
    """Measure `cases` (one user and phase) round-robin; the floor is always among them."""
    cases = [
        case
        for case in cases
        if case["endpoint"] == FLOOR or selected is None or selected.search(case_name(case))
    ]
    if all(case["endpoint"] == FLOOR for case in cases) and selected is not None:
        return []
    for case in cases:  # warm-up: every thread connects, the first touches are paid
        run_wrk(base, case["lines"], WARM_UP_SECONDS, args.connections, workdir)
    rounds = [
        [
            run_wrk(base, case["lines"], args.duration, args.connections, workdir, cpu)
            for case in cases
        ]
        for _ in range(args.runs)
    ]
    floor_ms = floor_cpu = None
    results = []
    for index, case in enumerate(cases):
        runs = [figures[index] for figures in rounds]
        best = dict(min(runs, key=lambda run: run["p50_ms"]))
        best["runs_p50_ms"] = [run["p50_ms"] for run in runs]
        best["errors"] = sum(run["errors"] for run in runs)
        best["cpu_ms"] = min(
            (run["cpu_ms"] for run in runs if run["cpu_ms"] is not None), default=None
        )
        method, path, token, body, *etag = case["lines"][0]
        plan = explain_slowest_query(path, method, token, body, *etag) if token else NO_PLAN
        if case["endpoint"] == FLOOR:
            floor_ms, floor_cpu = best["p50_ms"], best["cpu_ms"]
        result = {
            "user": case["user"],
            "phase": case["phase"],
            "endpoint": case["endpoint"],
            "path": path,
            **best,
            **plan,
            "load_1m": round(os.getloadavg()[0], 2),
        }
        if floor_ms and best["p50_ms"] and case["user"] != "anonymous":
            result["x_floor"] = round(best["p50_ms"] / floor_ms, 2)
            result["cpu_x_floor"] = (
                round(best["cpu_ms"] / floor_cpu, 2) if floor_cpu and best["cpu_ms"] else None
            )
        results.append(result)
        print_result(result, runs=args.runs)
    return results


def print_result(result, *, runs):
    ratio = f"{result['x_floor']:5.2f}× floor" if "x_floor" in result else " " * 11
    cpu_ratio = f" ({result['cpu_x_floor']:5.2f}×)" if result.get("cpu_x_floor") else " " * 9
    cpu_ms = "     ?" if result["cpu_ms"] is None else f"{result['cpu_ms']:6.2f}"
    runs_note = (
        "  p50s " + "/".join(f"{ms:.2f}" for ms in result["runs_p50_ms"]) if runs > 1 else ""
    )
    print(
        f"{result['user']:9} {result['phase']:12} {result['endpoint']:30} "
        f"{result['rps']:7.1f} req/s  p50 {result['p50_ms']:6.2f}  p95 {result['p95_ms']:6.2f}"
        f"  p99 {result['p99_ms']:6.2f} ms  {ratio}  cpu {cpu_ms} ms"
        f"{cpu_ratio}  errors {result['errors']:3d}  "
        f"pg {result['pg_ms']:6.3f} ms  heap fetches {result['heap_fetches']:5d}  "
        f"load {result['load_1m']:4.2f}{'  SEQ SCAN' if result['seq_scan'] else ''}"
        f"{runs_note}",
        flush=True,
    )


def check_bars(results):
    """One line per bar (household × phase × endpoint); returns whether all were met."""
    print(
        "\nbars (issues 17 and 22): p50 ÷ the same user's and phase's GET /auth/me p50 "
        "(in brackets: the same for server CPU per request)"
    )
    met = True
    for result in results:
        bar = BARS.get(result["endpoint"], {}).get(result["user"])
        if bar is None:
            continue
        where = f"{result['user']:4} {result['phase']:12} {result['endpoint']:30}"
        if "x_floor" not in result:  # the floor or the endpoint served nothing
            met = False
            print(f"  ✗ {where} not measured ({result['errors']} errors)")
            continue
        ok = result["x_floor"] <= bar and result["errors"] == 0
        met &= ok
        errors = f"  {result['errors']} errors" if result["errors"] else ""
        cpu = f"{result['cpu_x_floor']:5.2f}×" if result.get("cpu_x_floor") else "  –  "
        print(
            f"  {'✓' if ok else '✗'} {where} {result['p50_ms']:6.2f} ms = "
            f"{result['x_floor']:5.2f}×  (bar ≤ {bar:g}×)  [cpu {cpu}]{errors}"
        )
    failed = [case_name(r) for r in results if r["errors"] and r["endpoint"] not in BARS]
    for name in failed:
        print(f"  ✗ {name}: requests failed")
    return met and not failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint and run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="rounds over each user's endpoints (new connections each); the "
        "round with the lowest p50 counts, every round's p50 is listed",
    )
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=None, help="gunicorn threads per worker")
    parser.add_argument("--worker-class", default=None, help="gunicorn worker class")
    parser.add_argument(
        "--worker-connections",
        type=int,
        default=None,
        help="connections a worker takes at once (default: its threads, so wrk's "
        "connections spread evenly over the workers; 0 keeps gunicorn's 1,000)",
    )
    parser.add_argument(
        "--only",
        default=None,
        help="measure only the endpoints whose 'user phase endpoint' matches "
        "this regex (e.g. '^30k', 'after import', 'stats'); each user's "
        "floor is always measured",
    )
    parser.add_argument(
        "--seed",
        action="store_true",
        help=f"seed {SEED_USERS:,} ordinary users × {SEED_ROWS_PER_USER:,} "
        "transactions first (replacing earlier demo users)",
    )
    args = parser.parse_args()
    if not 1 <= args.duration <= 120 or not 1 <= args.runs <= 10:
        parser.error("--duration must be 1–120 seconds and --runs 1–10")

    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to the PostgreSQL database to benchmark.")

    key, public_pem = make_key_pair()
    static_root = Path(tempfile.mkdtemp(prefix="hl-bench-static-"))
    env = server_env(public_pem, static_root)
    # The in-process work (import, EXPLAIN pass) runs the same settings as the server.
    os.environ.update(env)
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ["LOG_LEVEL"] = "WARNING"  # no request log lines from the EXPLAIN pass
    python = sys.executable
    # A database of its own may be new: its tables first (nothing to do when they are there).
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    if args.seed:
        subprocess.run(
            [
                python,
                "manage.py",
                "seed_demo",
                "--users",
                str(SEED_USERS),
                "--transactions-per-user",
                str(SEED_ROWS_PER_USER),
                "--reset",
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )

    import django

    django.setup()
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from accounts.models import User
    from ledger.dates import add_months, local_today
    from ledger.models import Transaction
    from ledger.services.ledgers import personal_ledger
    from ledger.services.transactions import transaction_bulk_delete

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise SystemExit("The database has unapplied migrations: manage.py migrate first.")

    ordinary = list(
        User.objects.filter(clerk_user_id__startswith=ORDINARY_PREFIX)
        .order_by("?")
        .values_list("clerk_user_id", flat=True)[:ORDINARY_SAMPLE]
    )
    if not ordinary:
        raise SystemExit("No seeded data: run with --seed (or manage.py seed_demo) first.")
    selected = re.compile(args.only) if args.only else None

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        python,
        "-m",
        "gunicorn",
        "-c",
        "gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "household_ledger.wsgi:application",
    ]
    if args.workers:
        command += ["--workers", str(args.workers)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    if args.worker_class:
        command += ["--worker-class", args.worker_class]
    # A gthread worker accepts connections while it has fewer than this many, so with
    # gunicorn's 1,000 all of wrk's keep-alive connections may land on one worker and a
    # round's latencies double; capped at the worker's threads, each worker takes its share.
    worker_connections = (
        args.worker_connections
        if args.worker_connections is not None
        else args.threads or int(os.environ.get("GUNICORN_THREADS", "4"))
    )
    if worker_connections:
        command += ["--worker-connections", str(worker_connections)]
    total_rows = Transaction.objects.count()
    load_before = os.getloadavg()
    print(
        f"gunicorn {' '.join(command[8:]) or '(gunicorn.conf.py defaults)'}; "
        f"{total_rows:,} transactions before the households' import; "
        f"load average {' '.join(f'{x:.2f}' for x in load_before)}",
        flush=True,
    )
    # The server's log lines (every request's) go to a file, as to a log collector: a pipe
    # nobody reads fills up and stalls the workers.
    server_log = (static_root / "server.log").open("w")
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=server_log, stderr=subprocess.STDOUT, text=True
    )
    results, households = [], {}
    try:
        try:
            wait_ready(base)
        except SystemExit:
            print((static_root / "server.log").read_text()[-3000:], file=sys.stderr)
            raise
        with tempfile.TemporaryDirectory() as workdir:
            cpu = ServerCpu(server.pid)

            def run(cases):
                results.extend(
                    measure(
                        cases, base=base, args=args, workdir=workdir, selected=selected, cpu=cpu
                    )
                )

            for label, rows in HOUSEHOLDS:
                if selected and not any(
                    selected.search(f"{label} {phase} {name}")
                    for phase in (AFTER_IMPORT, AT_REST)
                    for name in (*BARS, SNAPSHOT)
                ):
                    continue
                user, info = import_household(label, rows)
                month, month_rows, day, day_rows = household_days(user)
                info.update(
                    month=f"{month:%Y-%m}",
                    month_rows=month_rows,
                    day=day.isoformat(),
                    day_rows=day_rows,
                    table_rows=Transaction.objects.count(),
                )
                households[label] = info
                print(
                    f"{label}: {month:%Y-%m} has {month_rows} rows, its busiest day "
                    f"{day} {day_rows}; {info['table_rows']:,} rows in the table",
                    flush=True,
                )
                token = mint(key, info["clerk_user_id"])
                run(
                    cases_for(label, AFTER_IMPORT, [token], month, day)
                    + conditional_cases(label, AFTER_IMPORT, base, token, user, month)
                )
                print(f"{label}: VACUUM ANALYZE {vacuum_analyze():.1f} s", flush=True)
                run(
                    cases_for(label, AT_REST, [token], month, day)
                    + conditional_cases(label, AT_REST, base, token, user, month)
                )
                if selected is None or selected.search(f"{label} {AT_REST} {SNAPSHOT}"):
                    info["snapshots"] = snapshots(label, base, token, server.pid, info)

            month = add_months(local_today(), -1)
            run(
                cases_for(
                    "ordinary",
                    AT_REST,
                    [mint(key, clerk_id) for clerk_id in ordinary],
                    month,
                    month.replace(day=15),
                    post=True,
                )
            )
            run(ANONYMOUS)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        server_log.close()
        # Remove what the POST endpoint created, so runs stay comparable, and vacuum: their
        # dead index entries would sit on the by-date day.
        posted = Transaction.objects.filter(
            description=POST_DESCRIPTION,
            ledger__personal_for__clerk_user_id__startswith=ORDINARY_PREFIX,
        )
        for user in User.objects.filter(pk__in=posted.values("ledger__personal_for")):
            transaction_bulk_delete(ledger=personal_ledger(user=user), queryset=posted)
        vacuum_analyze()
        shutil.rmtree(static_root, ignore_errors=True)

    met = check_bars(results)
    for label, info in households.items():
        for snapshot in info.get("snapshots", []):
            print("  " + sync_snapshot.describe(label, snapshot))
            met &= sync_snapshot.within_bound(snapshot)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"http-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "settings": vars(args),
                "gunicorn": command[8:],
                "households": households,
                "load_before": load_before,
                "load_after": os.getloadavg(),
                "bars_met": met,
                "results": results,
            },
            indent=2,
            ensure_ascii=False,
            default=str,
        )
    )
    print(f"written {out.relative_to(ROOT)}")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
