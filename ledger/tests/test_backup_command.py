"""manage.py import_indexeddb: the support staff's import, through call_command."""

import datetime
import json
import os
import pty
import select
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command

from accounts.tests.factories import UserFactory
from household_ledger.testing import child_process_env
from ledger.models import Category, RecurringTransaction, Transaction
from ledger.tests.backup_support import (
    COFFEE,
    SPA_FIXTURE,
    dexie_document,
    snapshot,
    spa_fixture,
)
from ledger.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


def run(*args, **options):
    out, err = StringIO(), StringIO()
    call_command("import_indexeddb", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def write(tmp_path, document, name="backup.json") -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def test_imports_the_spa_fixture_and_prints_a_summary_table(user):
    out, _ = run(str(SPA_FIXTURE), user=user.clerk_user_id)

    assert Transaction.objects.filter(ledger__personal_for=user).count() == 306
    coffee = Transaction.objects.get(ledger__personal_for=user, legacy_id=COFFEE)
    assert coffee.date == datetime.date(2025, 7, 25)
    assert "format spa-v1, mode merge, time zone Asia/Seoul" in out
    transactions_line = next(line for line in out.splitlines() if line.startswith("transactions"))
    assert transactions_line.split() == ["transactions", "306", "306", "0", "0", "0", "0", "0"]
    categories_line = next(line for line in out.splitlines() if line.startswith("categories"))
    assert categories_line.split() == ["categories", "0", "7", "0", "0", "0", "0", "0"]
    assert "Imported." in out


def test_finds_the_user_by_email_case_insensitively(user):
    run(str(SPA_FIXTURE), user=user.email.upper())

    assert Transaction.objects.filter(ledger__personal_for=user).count() == 306


def test_second_run_skips_everything(user):
    run(str(SPA_FIXTURE), user=user.clerk_user_id)
    before = snapshot(user)

    out, _ = run(str(SPA_FIXTURE), user=user.clerk_user_id)

    transactions_line = next(line for line in out.splitlines() if line.startswith("transactions"))
    assert transactions_line.split() == ["transactions", "306", "0", "306", "0", "0", "0", "0"]
    assert snapshot(user) == before


def test_dry_run_writes_nothing(user):
    out, _ = run(str(SPA_FIXTURE), user=user.clerk_user_id, dry_run=True)

    assert "Dry run of the import" in out and "nothing was written" in out
    assert not Transaction.objects.filter(ledger__personal_for=user).exists()
    assert not Category.objects.filter(ledger__personal_for=user).exists()


def test_timezone_option_decides_the_local_dates(user):
    run(str(SPA_FIXTURE), user=user.clerk_user_id, timezone="UTC")

    coffee = Transaction.objects.get(ledger__personal_for=user, legacy_id=COFFEE)
    assert coffee.date == datetime.date(2025, 7, 24)


def test_replace_mode_deletes_first(user):
    TransactionFactory(user=user, description="사라질 거래")

    out, _ = run(str(SPA_FIXTURE), user=user.clerk_user_id, mode="replace", yes=True)

    assert not Transaction.objects.filter(
        ledger__personal_for=user, description="사라질 거래"
    ).exists()
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 306
    transactions_line = next(line for line in out.splitlines() if line.startswith("transactions"))
    assert transactions_line.split()[4] == "1"  # deleted


@time_machine.travel(datetime.datetime(2025, 8, 2, 9, 0, tzinfo=datetime.UTC))
def test_dexie_dump_with_rules(user, tmp_path):
    document = dexie_document(
        {
            "recurring_transactions": [
                {
                    "id": 1,
                    "template_name": "통신비",
                    "amount": 55000,
                    "type": "expense",
                    "category": "통신비",
                    "frequency": "monthly",
                    "start_date": "2025-01",
                    "end_date": None,
                    "day_of_month": "10",
                    "is_active": 1,
                    "is_variable_amount": 0,
                },
            ],
            "transactions": [
                {
                    "id": 1,
                    "description": "통신비",
                    "amount": 55000,
                    "type": "expense",
                    "date": "2025-07-09T15:00:00.000Z",
                    "category": "통신비",
                    "status": "confirmed",
                    "recurring_id": 1,
                },
            ],
        }
    )

    run(write(tmp_path, document), user=user.clerk_user_id)

    rule = RecurringTransaction.objects.get(ledger__personal_for=user)
    assert Transaction.objects.get(ledger__personal_for=user).recurring == rule
    # July's row is linked; January–June (no row in the file) are closed, not back-filled.
    assert list(rule.occurrences.order_by("date").values_list("date", flat=True)) == [
        datetime.date(2025, month, 10) for month in range(1, 8)
    ]


def test_invalid_rows_fail_with_every_problem_listed(user, tmp_path):
    document = spa_fixture()
    document["transactions"][3]["amount"] = -100
    document["transactions"][40]["date"] = "2025-02-30"
    TransactionFactory(user=user)
    before = snapshot(user)
    err = StringIO()

    with pytest.raises(CommandError, match="2 rows of the file are invalid"):
        call_command(
            "import_indexeddb",
            write(tmp_path, document),
            user=user.clerk_user_id,
            stdout=StringIO(),
            stderr=err,
        )

    assert "transactions[3].amount" in err.getvalue()
    assert "transactions[40].date" in err.getvalue()
    assert snapshot(user) == before


def test_dry_run_of_an_invalid_file_fails_too(user, tmp_path):
    document = {
        "version": 1,
        "transactions": [
            {"id": 1, "amount": 5, "type": "gift", "date": "2025-07-01", "description": "x"}
        ],
    }

    with pytest.raises(CommandError, match="Dry run: 1 invalid row"):
        run(write(tmp_path, document), user=user.clerk_user_id, dry_run=True)


def test_unreadable_file_is_a_command_error(user, tmp_path):
    with pytest.raises(CommandError, match="not valid JSON"):
        run(write(tmp_path, "{oops"), user=user.clerk_user_id)
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "missing.json"), user=user.clerk_user_id)


def test_unknown_or_ambiguous_user_is_a_command_error(user):
    with pytest.raises(CommandError, match="No user"):
        run(str(SPA_FIXTURE), user="user_nobody")
    UserFactory(email="twin@example.com")
    UserFactory(email="TWIN@example.com")
    with pytest.raises(CommandError, match="2 users have the email"):
        run(str(SPA_FIXTURE), user="twin@example.com")


def test_deleted_user_is_refused(user):
    user.deleted_at = datetime.datetime(2025, 8, 1, tzinfo=datetime.UTC)
    user.save()

    with pytest.raises(CommandError, match="deleted"):
        run(str(SPA_FIXTURE), user=user.clerk_user_id)


def test_max_rows_refuses_files_with_more_rows(user):
    before = snapshot(user)

    with pytest.raises(CommandError, match="more than 100 rows, the import limit"):
        run(str(SPA_FIXTURE), user=user.clerk_user_id, max_rows=100)

    assert snapshot(user) == before


def test_progress_shows_every_step_with_rate_and_time_left(user, tmp_path):
    rows = [
        {
            "id": i,
            "description": f"거래 {i}",
            "amount": 1000,
            "type": "expense",
            "date": "2025-07-01",
            "category": "식비",
        }
        for i in range(6000)
    ]
    document = dexie_document(
        {
            "categories": [{"id": 1, "name": "식비", "emoji": "🍽️"}],
            "recurring_transactions": [],
            "transactions": rows,
        }
    )

    out, err = run(write(tmp_path, document), user=user.clerk_user_id)

    lines = {line.split("  ")[0]: line for line in err.splitlines() if line.strip()}
    assert set(lines) >= {"reading the file", "categories", "recurring rules", "transactions"}
    assert "6,000/6,000" in lines["transactions"]
    assert "1/1" in lines["categories"] and "0/0" in lines["recurring rules"]
    assert "rows/s" in lines["transactions"] and "/s" in lines["reading the file"]
    assert "0:00:00" in lines["transactions"]  # the time left, at the end
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 6000


def test_no_progress_prints_none(user):
    _, err = run(str(SPA_FIXTURE), user=user.clerk_user_id, no_progress=True)

    assert "transactions" not in err


def test_replace_mode_without_a_terminal_needs_yes(user):
    TransactionFactory(user=user, description="남을 거래")
    before = snapshot(user)

    with pytest.raises(CommandError, match="pass --yes to confirm"):
        run(str(SPA_FIXTURE), user=user.clerk_user_id, mode="replace", stdin=StringIO("yes\n"))

    assert snapshot(user) == before
    # a dry run deletes nothing, so it needs no confirmation
    out, _ = run(str(SPA_FIXTURE), user=user.clerk_user_id, mode="replace", dry_run=True)
    assert "nothing was written" in out
    assert snapshot(user) == before


def test_report_json_is_written_for_an_import_and_for_a_refused_file(user, tmp_path):
    path = tmp_path / "report.json"

    run(str(SPA_FIXTURE), user=user.clerk_user_id, report_json=str(path))

    report = json.loads(path.read_text())
    assert report["ok"] and report["format"] == "spa-v1"
    assert report["created"]["transactions"] == 306
    bad = write(tmp_path, {"version": 1, "transactions": [{"id": 1, "amount": "x"}]}, "bad.json")
    with pytest.raises(CommandError):
        run(bad, user=user.clerk_user_id, report_json=str(path))
    report = json.loads(path.read_text())
    assert not report["ok"] and report["failed"] == 1
    assert {p["field"] for p in report["problems"]} >= {"amount", "date"}


def _run_on_a_terminal(args: list[str], answer: bytes) -> tuple[int, str]:
    """The command in a child process whose stdin and stdout are a pseudo-terminal; `answer`
    is typed once it asks. (exit status, what the terminal showed)."""
    primary, secondary = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "manage.py", "import_indexeddb", *args],
        cwd=ROOT,
        env=child_process_env("household_ledger.settings_test"),
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
    )
    os.close(secondary)
    shown = b""
    answered = False
    while True:
        ready, _, _ = select.select([primary], [], [], 120)
        if not ready:
            child.kill()
            raise AssertionError(f"no output for 120 s:\n{shown.decode(errors='replace')}")
        try:
            data = os.read(primary, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        shown += data
        if not answered and b"Type yes to continue" in shown:
            os.write(primary, answer)
            answered = True
    os.close(primary)
    return child.wait(timeout=60), shown.decode(errors="replace")


@pytest.mark.django_db(transaction=True)
def test_replace_mode_asks_on_a_terminal():
    user = UserFactory()
    TransactionFactory(user=user, description="사라질 거래")
    args = [str(SPA_FIXTURE), "--user", user.clerk_user_id, "--mode", "replace"]

    status, shown = _run_on_a_terminal(args, b"no\n")

    assert status == 1, shown
    assert "deletes" in shown and "1 transaction(s)" in shown
    assert "Not confirmed: nothing was changed." in shown
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 1

    status, shown = _run_on_a_terminal(args, b"yes\n")

    assert status == 0, shown
    assert "Imported." in shown
    assert not Transaction.objects.filter(
        ledger__personal_for=user, description="사라질 거래"
    ).exists()
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 306


@pytest.mark.django_db(transaction=True)
def test_exit_status_is_non_zero_for_an_invalid_file(tmp_path):
    user = UserFactory()
    bad = write(tmp_path, {"version": 1, "transactions": [{"id": 1, "amount": "x"}]})
    env = child_process_env("household_ledger.settings_test")

    result = subprocess.run(
        [sys.executable, "manage.py", "import_indexeddb", bad, "--user", user.clerk_user_id],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert "transactions[0].amount" in result.stderr
    assert "transactions[0].date" in result.stderr
    assert not Transaction.objects.exists()
