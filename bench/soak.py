"""Load soak: mixed traffic against gunicorn + PostgreSQL + Redis + a Celery worker on localhost,
then a consistency check.

    python -m bench.soak --minutes 10

What it does, all on this machine:
1. creates a fresh database (`--database-url`, default `hl_reliability_soak` on the local
   PostgreSQL, dropped afterwards unless `--keep`) and starts a private `redis-server` on a free
   port (or empties the Redis database given by `--redis-url`); both must be on localhost;
2. migrates, starts gunicorn (`--web-workers` × 4 threads) and a Celery worker, with a throwaway
   RSA key trusted as the Clerk key, so the load uses real signed session tokens;
3. for `--minutes`, `--clients` threads send mixed requests as `--users` users: list and
   calendar reads, creates, edits and deletes of transactions, stats, exports, SPA-file imports
   (new files and re-imports of earlier ones), recurring rules; every `--beat-every` seconds a
   beat run (the engine and the confirmation task) goes through the broker to the worker;
4. waits for the queue to drain and checks: every transaction the clients created and did not
   delete is there once with its last written amount, deleted ones are gone, every imported row
   is there once, no rule has two occurrences on a date, each user's /stats/summary and
   /stats/assets equal the sums of their rows, and no answer was a 5xx.

Prints the figures and exits 1 when any check fails. Bounded: at most `--max-requests`.
API rate limits are raised for the soak (one machine plays every user); they are tested in
household_ledger/tests/test_throttles.py.
"""

import argparse
import base64
import datetime
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlparse

import jwt
import psycopg
import redis
from celery import Celery
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REPO = Path(__file__).resolve().parent.parent
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
ISSUER = "https://clerk.soak.localhost"
SPA_ORIGIN = "http://localhost:5173"


# --- processes ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _require_local(url: str, what: str) -> None:
    host = urlparse(url).hostname
    if host not in LOCAL_HOSTS:
        sys.exit(f"{what} must be on localhost (got {host!r}): the soak never touches others.")


def make_signing_keys():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public_pem


def session_token(private_key, sub: str) -> str:
    now = int(time.time())
    claims = {
        "sub": sub,
        "iat": now,
        "nbf": now - 5,
        "exp": now + 300,
        "azp": SPA_ORIGIN,
        "iss": ISSUER,
        "sid": f"sess_{sub}",
        "v": 2,
        "sts": "active",
        "fva": [0, -1],
    }
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": "soak"})


def _prepare_database(database_url: str) -> None:
    parsed = urlparse(database_url)
    name = parsed.path.lstrip("/")
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop_database(database_url: str) -> None:
    name = urlparse(database_url).path.lstrip("/")
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Stack:
    """gunicorn + a Celery worker, with their environment and logs."""

    def __init__(self, args, public_pem: str):
        self.args = args
        self.port = _free_port()
        self.logs = Path(tempfile.mkdtemp(prefix="hl-soak-"))
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CLERK_"))},
            "DJANGO_SETTINGS_MODULE": "household_ledger.settings",
            "DJANGO_SECRET_KEY": base64.b64encode(os.urandom(40)).decode(),
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "CLERK_JWT_KEY": public_pem,
            "CLERK_ISSUER": ISSUER,
            "CLERK_AUTHORIZED_PARTIES": SPA_ORIGIN,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "THROTTLE_RATE_USER": "1000000/min",
            "THROTTLE_RATE_BACKUP": "1000000/min",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        self.processes = []

    def manage(self, *command):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=REPO,
            env=self.env,
            check=True,
            capture_output=True,
            timeout=600,
        )

    def _spawn(self, name, command):
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append((name, process))
        return process

    def start(self):
        self._spawn(
            "gunicorn",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "household_ledger.wsgi:application",
                "--config",
                "/dev/null",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.args.web_workers),
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "--timeout",
                "120",
            ],
        )
        self._spawn(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "household_ledger",
                "worker",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"soak-{os.getpid()}@%h",
            ],
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, _ = request("GET", self.port, "/readyz")
                if status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not get ready; logs in {self.logs}")
            time.sleep(0.3)

    def stop(self):
        for _, process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _, process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def request(method, port, path, body=None, token=None, timeout=60):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Host": "127.0.0.1"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        body = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


# --- the load ----------------------------------------------------------------------------------


class Ledger:
    """What the clients did, as they saw it succeed."""

    def __init__(self):
        self.lock = threading.Lock()
        self.live = {}  # transaction id → (user index, amount)
        self.deleted = set()
        self.imported = defaultdict(set)  # user index → legacy ids
        self.files = defaultdict(list)  # user index → earlier import documents
        self.rules = set()
        self.statuses = Counter()
        self.latencies = defaultdict(list)
        self.errors = []  # (op, status, body) of every 5xx
        self.requests = 0


class Client(threading.Thread):
    OPS = [  # (name, weight)
        ("list", 16),
        ("by_month", 8),
        ("by_date", 4),
        ("create", 24),
        ("edit", 10),
        ("delete", 5),
        ("stats", 10),
        ("assets", 4),
        ("export", 3),
        ("import", 4),
        ("reimport", 2),
        ("recurring", 3),
        ("categories", 3),
        ("detail", 4),
    ]

    def __init__(self, number, stack, users, tokens, ledger, stop_at, max_requests):
        super().__init__(daemon=True)
        self.number = number
        self.port = stack.port
        self.users = users
        self.tokens = tokens
        self.ledger = ledger
        self.stop_at = stop_at
        self.max_requests = max_requests
        self.random = random.Random(number)  # noqa: S311 - load generation
        self.mine = []  # ids this client created and still has (only it edits/deletes them)
        self.names, weights = zip(*self.OPS, strict=True)
        self.weights = list(weights)

    def call(self, op, method, path, user, body=None):
        started = time.monotonic()
        status, headers, content = request(method, self.port, path, body, self.tokens[user]())
        elapsed = time.monotonic() - started
        with self.ledger.lock:
            self.ledger.requests += 1
            self.ledger.statuses[status] += 1
            self.ledger.latencies[op].append(elapsed)
            if status >= 500:
                self.ledger.errors.append((op, method, path, status, content[:300]))
        return status, content

    def run(self):
        today = datetime.date.today()
        while time.monotonic() < self.stop_at:
            with self.ledger.lock:
                if self.ledger.requests >= self.max_requests:
                    return
            op = self.random.choices(self.names, self.weights)[0]
            user = self.random.randrange(len(self.users))
            try:
                getattr(self, f"op_{op}")(op, user, today)
            except OSError as exc:  # a refused/reset connection is a failure too
                with self.ledger.lock:
                    self.ledger.errors.append((op, "", "", "connection", repr(exc)))

    def op_list(self, op, user, today):
        self.call(op, "GET", f"/transactions?page_size={self.random.choice([20, 50, 200])}", user)

    def op_by_month(self, op, user, today):
        self.call(
            op,
            "GET",
            f"/transactions/by-month/{today.year}/{today.month}?include_projected=true",
            user,
        )

    def op_by_date(self, op, user, today):
        self.call(op, "GET", f"/transactions/by-date/{today.isoformat()}", user)

    def op_create(self, op, user, today):
        amount = self.random.randrange(1000, 90000, 100)
        day = today - datetime.timedelta(days=self.random.randrange(-20, 60))
        body = {
            "date": day.isoformat(),
            "description": f"soak {self.number}",
            "amount": amount,
            "type": self.random.choice(["income", "expense", "expense"]),
            "status": "confirmed" if day <= today else "scheduled",
        }
        status, content = self.call(op, "POST", "/transactions", user, body)
        if status == 201:
            created = json.loads(content)["id"]
            self.mine.append((created, user))
            with self.ledger.lock:
                self.ledger.live[created] = (user, amount)

    def op_detail(self, op, user, today):
        if self.mine:
            pk, owner = self.random.choice(self.mine)
            self.call(op, "GET", f"/transactions/{pk}", owner)

    def op_edit(self, op, user, today):
        if not self.mine:
            return
        pk, owner = self.random.choice(self.mine)
        amount = self.random.randrange(1000, 90000, 100)
        status, _ = self.call(op, "PATCH", f"/transactions/{pk}", owner, {"amount": amount})
        if status == 200:
            with self.ledger.lock:
                self.ledger.live[pk] = (owner, amount)

    def op_delete(self, op, user, today):
        if not self.mine:
            return
        pk, owner = self.mine.pop(self.random.randrange(len(self.mine)))
        status, _ = self.call(op, "DELETE", f"/transactions/{pk}", owner)
        if status == 204:
            with self.ledger.lock:
                self.ledger.live.pop(pk, None)
                self.ledger.deleted.add(pk)
        else:
            self.mine.append((pk, owner))

    def op_stats(self, op, user, today):
        self.call(op, "GET", f"/stats/monthly/{today.year}/{today.month}", user)
        self.call(op, "GET", "/stats/summary", user)

    def op_assets(self, op, user, today):
        self.call(op, "GET", "/stats/assets", user)

    def op_categories(self, op, user, today):
        self.call(op, "GET", "/categories", user)

    def op_export(self, op, user, today):
        self.call(op, "GET", "/backup/export", user)

    def op_import(self, op, user, today):
        rows = []
        for _ in range(self.random.randrange(3, 25)):
            day = today - datetime.timedelta(days=self.random.randrange(1, 400))
            instant = datetime.datetime(day.year, day.month, day.day) - datetime.timedelta(hours=9)
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "description": "가져온 거래",
                    "amount": self.random.randrange(1000, 50000, 100),
                    "type": self.random.choice(["income", "expense"]),
                    "date": instant.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "category": self.random.choice(["식비", "카페", "쇼핑", "월급"]),
                    "status": "confirmed",
                    "recurring_id": None,
                }
            )
        document = {
            "version": 1,
            "exportDate": f"{today.isoformat()}T00:00:00.000Z",
            "transactions": rows,
        }
        status, _ = self.call(op, "POST", "/backup/import", user, document)
        if status == 200:
            with self.ledger.lock:
                self.ledger.imported[user].update(row["id"] for row in rows)
                self.ledger.files[user].append(document)

    def op_reimport(self, op, user, today):
        with self.ledger.lock:
            files = list(self.ledger.files[user])
        if files:
            self.call(op, "POST", "/backup/import", user, self.random.choice(files))

    def op_recurring(self, op, user, today):
        start = today.replace(day=1) - datetime.timedelta(days=self.random.randrange(0, 120))
        body = {
            "template_name": f"정기 {self.number}",
            "amount": 10000,
            "type": "expense",
            "frequency": "monthly",
            "start_date": start.strftime("%Y-%m"),
            "day_of_month": self.random.randrange(1, 32),
        }
        status, content = self.call(op, "POST", "/recurring", user, body)
        if status == 201:
            with self.ledger.lock:
                self.ledger.rules.add(json.loads(content)["id"])


def _beat(producer, stop_at, every, counter):
    while time.monotonic() < stop_at:
        producer.send_task("ledger.tasks.materialize_recurring")
        producer.send_task("ledger.tasks.confirm_due_transactions")
        counter["beat runs"] += 1
        time.sleep(every)


def _drain(redis_url, timeout=300):
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.llen("celery") == 0 and client.hlen("unacked") == 0:
            time.sleep(2)
            if client.llen("celery") == 0 and client.hlen("unacked") == 0:
                return True
        time.sleep(0.5)
    return False


# --- the check ---------------------------------------------------------------------------------


def _check(args, stack, users, tokens, ledger):
    problems = Counter()
    samples = defaultdict(list)

    def problem(kind, detail):
        problems[kind] += 1
        if len(samples[kind]) < 5:
            samples[kind].append(detail)

    with psycopg.connect(args.database_url) as conn:
        user_ids = dict(
            conn.execute(
                "SELECT clerk_user_id, id FROM accounts_user WHERE clerk_user_id = ANY(%s)",
                [users],
            ).fetchall()
        )
        rows = {
            str(pk): (owner, amount)
            for pk, owner, amount in conn.execute(
                "SELECT id, user_id, amount FROM ledger_transaction"
            ).fetchall()
        }
        for pk, (user, amount) in ledger.live.items():
            found = rows.get(pk)
            if found is None:
                problem("lost transactions", pk)
            elif found[0] != user_ids[users[user]] or found[1] != amount:
                problem("wrong transactions", (pk, found, amount))
        for pk in ledger.deleted:
            if pk in rows:
                problem("deleted transactions still there", pk)
        imported = defaultdict(Counter)
        for owner, legacy in conn.execute(
            "SELECT user_id, legacy_id FROM ledger_transaction WHERE legacy_id <> ''"
        ).fetchall():
            imported[owner][legacy] += 1
        for user, legacy_ids in ledger.imported.items():
            counts = imported[user_ids[users[user]]]
            for legacy in legacy_ids:
                if counts[legacy] != 1:
                    problem("imported rows not there exactly once", (legacy, counts[legacy]))
        for recurring, date, count in conn.execute(
            "SELECT recurring_id, date, count(*) FROM ledger_transaction "
            "WHERE recurring_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1"
        ).fetchall():
            problem("duplicate occurrences", (recurring, date, count))
        if ledger.rules:
            missing_rules = ledger.rules - {
                str(r[0]) for r in conn.execute("SELECT id FROM ledger_recurringtransaction")
            }
            for rule in missing_rules:
                problem("lost recurring rules", rule)

        # totals: the API's figures are the sums of the rows
        low, high = conn.execute("SELECT min(date), max(date) FROM ledger_transaction").fetchone()
        for user_index, clerk_id in enumerate(users):
            user_id = user_ids.get(clerk_id)
            sums = dict(
                ((kind, status), total)
                for kind, status, total in conn.execute(
                    "SELECT type, status, coalesce(sum(amount), 0) FROM ledger_transaction "
                    "WHERE user_id = %s GROUP BY 1, 2",
                    [user_id],
                ).fetchall()
            )
            income = sum(v for (k, _), v in sums.items() if k == "income")
            expense = sum(v for (k, _), v in sums.items() if k == "expense")
            status, _, content = request(
                "GET",
                stack.port,
                f"/stats/summary?date_from={low.isoformat()}&date_to={high.isoformat()}",
                token=tokens[user_index](),
            )
            summary = json.loads(content) if status == 200 else {}
            if status != 200 or (summary["income"], summary["expense"]) != (income, expense):
                problem(
                    "summary totals differ from the rows",
                    (clerk_id, status, summary, income, expense),
                )
            status, _, content = request(
                "GET", stack.port, "/stats/assets", token=tokens[user_index]()
            )
            assets = json.loads(content) if status == 200 else {}
            confirmed = sums.get(("income", "confirmed"), 0) - sums.get(("expense", "confirmed"), 0)
            if status != 200 or assets.get("assets") != confirmed:
                problem("assets differ from the rows", (clerk_id, status, assets, confirmed))
        counts = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE recurring_id IS NOT NULL), "
            "count(*) FILTER (WHERE legacy_id <> '') FROM ledger_transaction"
        ).fetchone()
    if ledger.errors:
        problems["5xx or connection errors"] = len(ledger.errors)
        samples["5xx or connection errors"] = ledger.errors[:5]
    return problems, samples, counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--beat-every", type=float, default=30.0)
    parser.add_argument("--max-requests", type=int, default=500_000)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/hl_reliability_soak"
    )
    parser.add_argument(
        "--redis-url",
        default="",
        help="a Redis database to EMPTY and use (default: a private redis-server on a free port)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    _require_local(args.database_url, "--database-url")
    private_redis = None
    if not args.redis_url:
        port = _free_port()
        private_redis = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        args.redis_url = f"redis://127.0.0.1:{port}/0"
        time.sleep(0.5)
    _require_local(args.redis_url, "--redis-url")
    sys.path.insert(0, str(REPO))
    try:
        return _soak(args)
    finally:
        if private_redis is not None:
            private_redis.kill()
            private_redis.wait(10)


def _soak(args):
    print(
        f"soak: {args.minutes} min, {args.users} users, {args.clients} clients, "
        f"database {args.database_url}, redis {args.redis_url}",
        flush=True,
    )
    _prepare_database(args.database_url)
    redis.Redis.from_url(args.redis_url).flushdb()
    private_key, public_pem = make_signing_keys()
    stack = Stack(args, public_pem)
    stack.manage("migrate", "--noinput")
    stack.start()
    users = [f"user_soak_{n:03d}" for n in range(args.users)]
    tokens = [(lambda sub=sub: session_token(private_key, sub)) for sub in users]
    ledger = Ledger()
    beats = Counter()
    try:
        for index in range(len(users)):  # first sight creates the user
            assert request("GET", stack.port, "/auth/me", token=tokens[index]())[0] == 200
        started = time.monotonic()
        stop_at = started + args.minutes * 60
        producer = Celery(broker=args.redis_url)
        threads = [
            Client(n, stack, users, tokens, ledger, stop_at, args.max_requests)
            for n in range(args.clients)
        ]
        beat = threading.Thread(
            target=_beat, args=(producer, stop_at, args.beat_every, beats), daemon=True
        )
        for thread in [*threads, beat]:
            thread.start()
        while any(t.is_alive() for t in threads):
            time.sleep(5)
            print(
                f"  {time.monotonic() - started:6.0f}s  {ledger.requests} requests, "
                f"{len(ledger.errors)} errors",
                flush=True,
            )
        duration = time.monotonic() - started
        producer.send_task("ledger.tasks.materialize_recurring")
        producer.send_task("ledger.tasks.confirm_due_transactions")
        drained = _drain(args.redis_url)
        problems, samples, counts = _check(args, stack, users, tokens, ledger)
    finally:
        stack.stop()
    if not drained:
        problems["queue did not drain"] += 1

    latencies = sorted(x for values in ledger.latencies.values() for x in values)
    print("\n=== soak figures ===")
    print(f"duration            {duration:.0f} s (asked {args.minutes * 60:.0f} s)")
    print(f"requests            {ledger.requests} ({ledger.requests / duration:.0f}/s)")
    print(f"by status           {dict(sorted(ledger.statuses.items()))}")
    if latencies:
        p95 = latencies[int(len(latencies) * 0.95)]
        print(
            f"latency             p50 {statistics.median(latencies) * 1000:.0f} ms, "
            f"p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
        )
    print(
        "per operation       "
        + ", ".join(f"{op} {len(v)}" for op, v in sorted(ledger.latencies.items()))
    )
    print(f"beat runs           {beats['beat runs'] + 1}")
    print(
        f"transactions        {counts[0]} in the database ({counts[1]} from rules, "
        f"{counts[2]} imported); {len(ledger.live)} created by clients and kept, "
        f"{len(ledger.deleted)} deleted"
    )
    print(f"imported rows       {sum(len(v) for v in ledger.imported.values())} tracked")
    print(f"5xx                 {sum(v for k, v in ledger.statuses.items() if k >= 500)}")
    if problems:
        print("\nCONSISTENCY PROBLEMS:")
        for kind, count in problems.items():
            print(f"  {kind}: {count}  e.g. {samples[kind][:3]}")
    else:
        print(
            "consistency         OK: every created transaction there once with its last "
            "amount, deletions gone, imports once, no duplicate occurrence, totals = rows"
        )
    print(f"logs                {stack.logs}")
    if not args.keep:
        _drop_database(args.database_url)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
