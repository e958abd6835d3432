"""`make run` migrates a local SQLite file: every migration must apply (and revert) there too.

PostgreSQL-only operations (CREATE INDEX CONCURRENTLY) go through
ledger.db_operations, which falls back to plain ones on SQLite.
"""

import os
import subprocess
import sys

from django.conf import settings


def _manage(*args, database_url, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "household_ledger.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300,
    )


def test_migrations_apply_and_revert_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    forwards = _manage("manage.py", "migrate", "--noinput", database_url=url, tmp_path=tmp_path)
    assert forwards.returncode == 0, forwards.stderr[-2000:]
    assert "ledger.0006_transaction_user_date_created_index... OK" in forwards.stdout
    backwards = _manage(
        "manage.py", "migrate", "ledger", "0004", "--noinput", database_url=url, tmp_path=tmp_path
    )
    assert backwards.returncode == 0, backwards.stderr[-2000:]
    assert "Unapplying ledger.0005_transaction_date_index... OK" in backwards.stdout


def test_an_empty_database_url_means_the_local_sqlite_file(tmp_path):
    """`DATABASE_URL= make run`: empty is unset, not a crash in the settings."""
    show_engine = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE'])"
    )
    result = _manage("-c", show_engine, database_url="", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "django.db.backends.sqlite3"
