"""Helpers for tests that start the project in another process (gunicorn, a Celery worker)."""

from django.conf import settings


def child_process_database_url(name: str | None = None) -> str:
    """A DATABASE_URL for the database this test process uses (pytest's `test_…` copy once a
    test has asked for the database), so a child process sees the same rows."""
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{db['USER']}{password}@{host}:{port}/{name or db['NAME']}"
