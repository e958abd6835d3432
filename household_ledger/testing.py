"""Helpers for tests that start the project in another process (gunicorn, a Celery worker,
a management command)."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from django.conf import settings

PRODUCTION_SETTINGS = "household_ledger.settings"


def child_process_database_url(name: str | None = None) -> str:
    """A DATABASE_URL for the database this test process uses (pytest's `test_…` copy once a
    test has asked for the database), so a child process sees the same rows."""
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{db['USER']}{password}@{host}:{port}/{name or db['NAME']}"


def child_process_env(settings_module: str = PRODUCTION_SETTINGS, **overrides) -> dict[str, str]:
    """The environment of a child process that shares this test's database and Redis.

    With the production settings it runs as in production — DEBUG off, a throwaway secret key
    — and opens a database connection per request (no connection outlives the test's
    database). `overrides` come last, as strings.
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": child_process_database_url(),
        "REDIS_URL": settings.REDIS_URL or "",
    }
    if settings_module == PRODUCTION_SETTINGS:
        env.update(
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY="child-process-test-secret-key-0123456789-abcdefghijklmnop",
            DATABASE_CONN_MAX_AGE="0",
        )
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def embedded_dev_env(data_dir, **overrides) -> dict[str, str]:
    """The environment of `make run` on a plain clone: DEBUG on, no DATABASE_URL nor REDIS_URL
    (so the embedded PostgreSQL, with its data in `data_dir`, inline tasks and a local cache),
    no Clerk key (so development tokens are trusted). Empty values, not missing ones, so that a
    developer's `.env` cannot fill them in."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CLERK_", "PYTEST", "CELERY_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE=PRODUCTION_SETTINGS,
        DJANGO_DEBUG="true",
        DATABASE_URL="",
        REDIS_URL="",
        CLERK_JWT_KEY="",
        CLERK_JWKS_URL="",
        CLERK_SECRET_KEY="",
        EMBEDDED_POSTGRES_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
    )
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_dev_server(env: dict[str, str]) -> Iterator[str]:
    """`manage.py runserver` as `make run` starts it (with the autoreloader); its base URL.

    On the way out it gets SIGTERM, as from `kill`, and must exit by itself within 30 s.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_for_healthz(url, server, log)
            yield url
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
                raise


def embedded_postgres_stop(data_dir) -> bool:
    """Stop the embedded PostgreSQL of `data_dir` if it still runs (a test's clean-up after a
    failure); whether it did."""
    pid_file = Path(data_dir) / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return False
    deadline = time.monotonic() + 30
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return True


def _wait_for_healthz(url: str, server: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    log.seek(0)
    raise AssertionError(f"runserver did not come up (exit {server.poll()}):\n{log.read()}")
