"""HTTP load benchmark of the real service (issue 10).

    python -m bench.http_bench [--seed] [--duration 10] [--connections 8] [--runs 1]
        [--workers 2 --threads 4] [--only REGEX] [--calendar-cache-seconds 0]

It starts gunicorn with the production config (`gunicorn.conf.py`, DEBUG off) on a free
localhost port against PostgreSQL (`DATABASE_URL`), mints Clerk-shaped RS256 tokens for the
seeded users with a key pair made for this run (networkless: `CLERK_JWT_KEY`), and drives a
closed-loop load with `wrk` (Debian package) from a separate process, one endpoint at a time,
for the heavy user and for random ordinary users. For each endpoint it prints requests/s,
p50/p95/p99 latency, errors, and the PostgreSQL execution time of its slowest query
(`EXPLAIN (ANALYZE, BUFFERS)` of the SQL the endpoint really runs), and writes the same as
JSON under `bench/results/`.
"""

import argparse
import datetime
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

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
AZP = "http://localhost:5173"
ORDINARY_SAMPLE = 200


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


def run_wrk(base, lines, duration, connections, workdir):
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
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    seconds = figures["duration_us"] / 1e6
    return {
        "rps": round(figures["requests"] / seconds, 1),
        "requests": figures["requests"],
        "p50_ms": figures["p50_us"] / 1000,
        "p95_ms": figures["p95_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
        "max_ms": figures["max_us"] / 1000,
        "errors": figures["http_errors"] + figures["socket_errors"],
    }


def explain_slowest_query(path, method, token, body):
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
            client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
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
                    "top_node": plan["Plan"]["Node Type"],
                }
    return slowest or {"pg_ms": 0.0, "sql": None, "seq_scan": False, "top_node": None}


def _statements(sql: str) -> list[str]:
    """The statements of one execute() (the calendar sends three at once), split on the
    semicolons outside quoted strings."""
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


def endpoints(heavy_token, ordinary_tokens, month, day):
    y, m = month
    post_body = json.dumps(
        {"date": day.isoformat(), "description": "벤치마크 커피", "amount": 4500, "type": "expense"}
    )
    reads = [
        ("floor: /auth/me", "GET", "/auth/me"),
        ("GET /transactions?page_size=50", "GET", "/transactions?page_size=50"),
        ("GET /transactions/by-month", "GET", f"/transactions/by-month/{y}/{m}"),
        ("GET /transactions/by-date", "GET", f"/transactions/by-date/{day.isoformat()}"),
        ("GET /stats/monthly", "GET", f"/stats/monthly/{y}/{m}"),
        ("GET /stats/assets", "GET", "/stats/assets"),
    ]
    for who, tokens in (("heavy", [heavy_token]), ("ordinary", ordinary_tokens)):
        for name, method, path in reads:
            yield who, name, [(method, path, token, "") for token in tokens]
        yield (
            who,
            "POST /transactions",
            [("POST", "/transactions", token, post_body) for token in tokens],
        )
    yield "anonymous", "DRF hello (no auth, no DB)", [("GET", "/bench/hello", "", "")]
    yield "anonymous", "hello + SELECT + Redis INCR", [("GET", "/bench/hello-round-trips", "", "")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="measured runs per endpoint (new connections each); the fastest "
        "is reported, all runs' req/s are listed",
    )
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=None, help="gunicorn threads per worker")
    parser.add_argument("--worker-class", default=None, help="gunicorn worker class")
    parser.add_argument(
        "--only",
        default=None,
        help="run only the endpoints whose 'user endpoint' name matches this regex",
    )
    parser.add_argument(
        "--calendar-cache-seconds",
        type=int,
        default=None,
        help="CALENDAR_CACHE_SECONDS for the server (0: every calendar request "
        "renders in PostgreSQL, the cache-miss path)",
    )
    parser.add_argument(
        "--seed",
        action="store_true",
        help="seed 1,000 users × 1,000 + one heavy user × 100,000 first",
    )
    args = parser.parse_args()

    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to the PostgreSQL database to benchmark.")

    key, public_pem = make_key_pair()
    static_root = Path(tempfile.mkdtemp(prefix="hl-bench-static-"))
    env = server_env(public_pem, static_root)
    if args.calendar_cache_seconds is not None:
        env["CALENDAR_CACHE_SECONDS"] = str(args.calendar_cache_seconds)
    # The in-process EXPLAIN pass runs the same settings as the server (DEBUG off, plain http).
    os.environ.update(env)
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ["LOG_LEVEL"] = "WARNING"  # the in-process EXPLAIN pass: no request log lines
    python = sys.executable
    if args.seed:
        subprocess.run(
            [
                python,
                "manage.py",
                "seed_demo",
                "--users",
                "1000",
                "--transactions-per-user",
                "1000",
                "--heavy-user-transactions",
                "100000",
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
    from accounts.models import User
    from ledger.dates import add_months, local_today
    from ledger.models import Transaction

    heavy = User.objects.filter(clerk_user_id="user_demo_heavy").first()
    if heavy is None:
        raise SystemExit("No seeded data: run with --seed (or manage.py seed_demo) first.")
    ordinary = list(
        User.objects.filter(clerk_user_id__startswith="user_demo_0")
        .order_by("?")
        .values_list("clerk_user_id", flat=True)[:ORDINARY_SAMPLE]
    )
    last_month = add_months(local_today(), -1)
    busy_day = (
        Transaction.objects.filter(user=heavy, date__lt=local_today())
        .order_by("-date")
        .values_list("date", flat=True)
        .first()
    )
    heavy_token = mint(key, heavy.clerk_user_id)
    ordinary_tokens = [mint(key, clerk_id) for clerk_id in ordinary]

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
    selected = re.compile(args.only) if args.only else None
    load_before = os.getloadavg()
    print(
        f"gunicorn {' '.join(command[8:]) or '(gunicorn.conf.py defaults)'}; "
        f"load average {' '.join(f'{x:.2f}' for x in load_before)}",
        flush=True,
    )
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    results = []
    try:
        wait_ready(base)
        with tempfile.TemporaryDirectory() as workdir:
            for who, name, lines in endpoints(
                heavy_token, ordinary_tokens, (last_month.year, last_month.month), busy_day
            ):
                if selected and not selected.search(f"{who} {name}"):
                    continue
                run_wrk(base, lines, 3, args.connections, workdir)  # warm-up (all threads connect)
                # gunicorn does not balance accepted connections: with few connections, all of
                # them often land on one worker (one GIL) and every latency doubles. Each run
                # connects anew; the fastest run is the one where they were spread.
                runs = [
                    run_wrk(base, lines, args.duration, args.connections, workdir)
                    for _ in range(args.runs)
                ]
                figures = max(runs, key=lambda run: run["rps"])
                figures["runs_rps"] = [run["rps"] for run in runs]
                method, path, token, body = lines[0]
                plan = (
                    explain_slowest_query(path, method, token, body)
                    if token
                    else {"pg_ms": 0.0, "sql": None, "seq_scan": False, "top_node": None}
                )
                load = os.getloadavg()[0]
                runs_note = (
                    "  runs " + "/".join(f"{rps:.0f}" for rps in figures["runs_rps"])
                    if args.runs > 1
                    else ""
                )
                results.append(
                    {"user": who, "endpoint": name, **figures, **plan, "load_1m": round(load, 2)}
                )
                print(
                    f"{who:9} {name:34} {figures['rps']:8.1f} req/s  p50 "
                    f"{figures['p50_ms']:7.2f}  p95 {figures['p95_ms']:7.2f}  p99 "
                    f"{figures['p99_ms']:7.2f} ms  errors {figures['errors']:4d}  "
                    f"pg {plan['pg_ms']:7.3f} ms  load {load:4.2f}"
                    f"{'  SEQ SCAN' if plan['seq_scan'] else ''}{runs_note}",
                    flush=True,
                )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        # Remove what the POST endpoint created, so runs stay comparable.
        Transaction.objects.filter(
            description="벤치마크 커피", user__clerk_user_id__startswith="user_demo_"
        ).delete()
        # Their dead index entries sit on the by-date day (thousands per run: the scan grew
        # 68 → 4,222 entries); autovacuum would wait for 20 % of the table to be dead.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) ledger_transaction")
        shutil.rmtree(static_root, ignore_errors=True)

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"http-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "settings": vars(args),
                "gunicorn": command[8:],
                "load_before": load_before,
                "load_after": os.getloadavg(),
                "results": results,
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
