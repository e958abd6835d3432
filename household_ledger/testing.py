"""Helpers for tests that start the project in another process (gunicorn, a Celery worker,
a management command)."""

import os

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
