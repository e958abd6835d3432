"""Memory of the API process under concurrent backup imports, and other users' latency meanwhile.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/household_ledger \\
    REDIS_URL=redis://127.0.0.1:6379/0 \\
    python -m bench.import_memory [--imports 6] [--rows 100000] [--others 0]
        [--workers 2 --threads 4]

Starts gunicorn with the production configuration (`gunicorn.conf.py`, production settings,
DEBUG off) on a free localhost port, with a key pair made for this run (`CLERK_JWT_KEY`). It
generates one SPA backup of `--rows` transactions (100,000 rows ≈ 21 MB) and has `--imports`
different users POST it at the same time as the JSON body; an import answered 429
`import_busy` waits its Retry-After and tries again, as a client should. Meanwhile it samples
the resident memory (RSS) of every gunicorn worker every 50 ms. With `--others N`, N more
users read their ledger in a closed loop (`GET /transactions`, `GET /stats/monthly/…`) for
10 s before the imports and during them, and their p50/p95/max latency is printed for both.

It prints each worker's RSS before and at its peak, and checks the peak against the bound in
docs/reliability.md#memory (exit status 1 if a worker passed it). The users it creates are
deleted at the end. The database must be migrated. Not a test: it prints figures.
"""

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bench.http_bench import AZP, free_port, make_key_pair, mint, wait_ready
from bench.import_benchmark import generate
from bench.worker_memory import WORKER_BOUND_MB, Sampler

ROOT = Path(__file__).resolve().parent.parent
OTHER_USER_ROWS = 2000


def _request(port, method, path, token, *, body=None, size=None, timeout=60):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Authorization": f"Bearer {token}", "Origin": AZP}
    if body is not None:
        headers.update({"Content-Type": "application/json", "Content-Length": str(size)})
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def run_import(port, token, path: Path, result: dict, deadline: float) -> None:
    started = time.monotonic()
    attempts = 0
    while time.monotonic() < deadline:
        attempts += 1
        try:
            with path.open("rb") as body:
                status, headers, content = _request(
                    port,
                    "POST",
                    "/backup/import",
                    token,
                    body=body,
                    size=path.stat().st_size,
                    timeout=1800,
                )
        except OSError as exc:  # a dropped connection: counted, and the import fails
            result.update(status=None, attempts=attempts, error=repr(exc))
            result["seconds"] = time.monotonic() - started
            return
        if status == 429 and b"import_busy" in content:
            time.sleep(int(headers.get("Retry-After", "5")))
            continue
        result.update(status=status, attempts=attempts, seconds=time.monotonic() - started)
        if status == 200:
            result["created"] = json.loads(content)["created"]["transactions"]
        else:
            result["error"] = content[:300].decode(errors="replace")
        return
    result.update(status=None, attempts=attempts, seconds=time.monotonic() - started)


def read_loop(port, token, latencies: list, stop: threading.Event) -> None:
    paths = ["/transactions?page_size=50", "/stats/monthly/2025/7"]
    n = 0
    while not stop.is_set():
        started = time.perf_counter()
        status, _, _ = _request(port, "GET", paths[n % 2], token)
        latencies.append((time.perf_counter() - started, status))
        n += 1


def _percentiles(samples: list) -> str:
    times = sorted(seconds * 1000 for seconds, _ in samples)
    if not times:
        return "no requests"
    errors = sum(1 for _, status in samples if status != 200)
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return (
        f"{len(times):,} requests, p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms, "
        f"max {times[-1]:.0f} ms, non-200 {errors}"
    )


def _measure_others(port, tokens, seconds=None, until=None) -> list:
    latencies: list = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=read_loop, args=(port, token, latencies, stop), daemon=True)
        for token in tokens
    ]
    for thread in threads:
        thread.start()
    if seconds:
        time.sleep(seconds)
    else:
        until()
    stop.set()
    for thread in threads:
        thread.join(70)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--imports", type=int, default=6)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--others", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL (a migrated PostgreSQL database) and REDIS_URL.")

    key, public_pem = make_key_pair()
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="household_ledger.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=env.get("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789abcdef"),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        CLERK_JWT_KEY=public_pem,
        CLERK_AUTHORIZED_PARTIES=AZP,
        REDIS_URL=env.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        THROTTLE_RATE_USER="100000/s",
        LOG_LEVEL="WARNING",
        GUNICORN_LOG_LEVEL="warning",
    )
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    from ledger.services.ledgers import personal_ledger

    django.setup()
    from django.conf import settings

    from accounts.models import User
    from ledger.models import Transaction
    from ledger.services.transactions import transaction_bulk_create

    run_id = uuid.uuid4().hex[:8]
    importers = [f"user_bench_imp_{run_id}_{n}" for n in range(args.imports)]
    others = [f"user_bench_oth_{run_id}_{n}" for n in range(args.others)]
    users = [User.objects.create(clerk_user_id=c, username=c) for c in importers + others]
    for user in users[args.imports :]:
        transaction_bulk_create(
            ledger=personal_ledger(user=user),
            transactions=[
                Transaction(
                    user_id=user.pk,
                    date=f"2025-07-{n % 28 + 1:02d}",
                    description=f"점심 {n}",
                    amount=1000 + n,
                    type="expense",
                )
                for n in range(OTHER_USER_ROWS)
            ],
        )

    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
    command += ["--bind", f"127.0.0.1:{port}", "household_ledger.wsgi:application"]
    if args.workers:
        command += ["--workers", str(args.workers)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "backup.json"
            generate(path, rows=args.rows, fmt="spa-v1")
            wait_ready(f"http://127.0.0.1:{port}")
            tokens = {clerk_id: mint(key, clerk_id) for clerk_id in importers + others}
            for clerk_id in importers + others:  # warm every worker up as traffic would
                for _ in range(4):
                    _request(port, "GET", "/transactions?page_size=50", tokens[clerk_id])
            sampler = Sampler(server.pid)
            before = sampler.sample()
            sampler.start()
            size_mb = path.stat().st_size / 1e6
            print(
                f"{args.imports} concurrent imports of a {size_mb:.1f} MB SPA backup "
                f"({args.rows:,} rows) by different users; gunicorn pid {server.pid}, "
                f"IMPORT_SLOTS={settings.IMPORT_SLOTS}"
            )
            idle = _measure_others(port, [tokens[c] for c in others], seconds=10) if others else []

            results = [{} for _ in importers]
            deadline = time.monotonic() + 3600
            threads = [
                threading.Thread(
                    target=run_import, args=(port, tokens[c], path, results[n], deadline)
                )
                for n, c in enumerate(importers)
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()

            def imports_done():
                for thread in threads:
                    thread.join()

            busy = _measure_others(port, [tokens[c] for c in others], until=imports_done)
            elapsed = time.monotonic() - started
            sampler.stop.set()
            sampler.join()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
        User.objects.filter(clerk_user_id__in=importers + others).delete()

    for n, result in enumerate(results):
        print(
            f"  import {n + 1}: HTTP {result.get('status')} "
            f"after {result.get('seconds', 0):.1f} s, "
            f"{result.get('attempts')} attempt(s), {result.get('created', 0):,} rows created"
            + (f" — {result['error']}" if result.get("error") else "")
        )
    print(f"all imports done in {elapsed:.1f} s")
    worst = 0.0
    for pid, peak in sorted(sampler.peaks.items()):
        base = before.get(pid, 0) / 2**20
        worst = max(worst, peak / 2**20)
        print(f"  worker {pid}: RSS {base:6.1f} MB before, peak {peak / 2**20:6.1f} MB")
    print(f"peak of all workers together: {sampler.peak_total / 2**20:.1f} MB")
    verdict = "within" if worst <= WORKER_BOUND_MB else "OVER"
    print(
        f"peak worker RSS {worst:.1f} MB: {verdict} the documented bound of "
        f"{WORKER_BOUND_MB} MB per worker (docs/reliability.md#memory)"
    )
    if others:
        print(f"other users, before the imports: {_percentiles(idle)}")
        print(f"other users, during the imports: {_percentiles(busy)}")
    failed = [r for r in results if r.get("status") != 200]
    if failed or worst > WORKER_BOUND_MB:
        sys.exit(1)


if __name__ == "__main__":
    main()
