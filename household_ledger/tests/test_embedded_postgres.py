"""The embedded PostgreSQL of development (household_ledger/embedded_postgres.py), in real
processes: several attach to one server, the last to leave stops it, and a killed process
never keeps it running."""

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from household_ledger.testing import embedded_dev_env, embedded_postgres_stop

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

# Attaches (settings), runs a query, says where the server is, then waits for stdin to close.
HOLDER = (
    "import sys, django; django.setup();"
    "from django.db import connection;"
    "connection.cursor().execute('SELECT 1');"
    "print(connection.settings_dict['HOST'], connection.pg_version, flush=True);"
    "sys.stdin.read()"
)


@pytest.fixture
def data_dir(tmp_path):
    data_dir = tmp_path / "pgdata"
    yield data_dir
    embedded_postgres_stop(data_dir)


def _holder(data_dir) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        cwd=ROOT,
        env=embedded_dev_env(data_dir),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline()
    assert line, f"the holder exited with {process.wait(timeout=30)}"
    return process, line.split()[0]


def _holders(data_dir) -> list[int]:
    return json.loads((data_dir / ".handle_pids.json").read_text() or "[]")


def _server_pid(data_dir) -> int | None:
    pid_file = data_dir / "postmaster.pid"
    return int(pid_file.read_text().split()[0]) if pid_file.exists() else None


def test_processes_share_one_server_and_the_last_to_exit_stops_it(data_dir):
    first, host = _holder(data_dir)
    server = _server_pid(data_dir)
    second, second_host = _holder(data_dir)
    assert second_host == host == str(data_dir)  # the socket lives in the data folder
    assert _server_pid(data_dir) == server
    assert _holders(data_dir) == [first.pid, second.pid]

    first.send_signal(signal.SIGTERM)  # exits through its exit handlers, like Ctrl-C
    assert first.wait(timeout=30) == 128 + signal.SIGTERM
    assert _holders(data_dir) == [second.pid]
    assert _server_pid(data_dir) == server

    second.stdin.close()
    assert second.wait(timeout=30) == 0
    assert _holders(data_dir) == []
    assert _server_pid(data_dir) is None


def test_a_killed_process_does_not_keep_the_server_running(data_dir):
    # given a holder killed outright: its exit handlers never ran, so its pid stays listed
    killed, _ = _holder(data_dir)
    killed.kill()
    killed.wait(timeout=30)
    assert _holders(data_dir) == [killed.pid]
    assert _server_pid(data_dir) is not None

    # when the next command runs and ends
    check = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=embedded_dev_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )

    # then it attached to the running server, dropped the dead pid and, last, stopped it
    assert check.returncode == 0, check.stderr
    assert _holders(data_dir) == []
    assert _server_pid(data_dir) is None


def test_the_data_survives_a_restart_of_the_server(data_dir):
    env = embedded_dev_env(data_dir)
    count_defaults = (
        "import django; django.setup(); from ledger.models import Category;"
        "print(Category.objects.filter(ledger=None).count())"
    )
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr
    assert _server_pid(data_dir) is None  # stopped when migrate ended
    again = subprocess.run(
        [sys.executable, "-c", count_defaults],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "18"  # the default categories of the migrations
