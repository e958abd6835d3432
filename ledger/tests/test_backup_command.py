"""manage.py import_indexeddb: the support staff's import, through call_command."""

import datetime
import json
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

    assert Transaction.objects.filter(user=user).count() == 306
    coffee = Transaction.objects.get(user=user, legacy_id=COFFEE)
    assert coffee.date == datetime.date(2025, 7, 25)
    assert "format spa-v1, mode merge, time zone Asia/Seoul" in out
    transactions_line = next(line for line in out.splitlines() if line.startswith("transactions"))
    assert transactions_line.split() == ["transactions", "306", "306", "0", "0", "0", "0", "0"]
    categories_line = next(line for line in out.splitlines() if line.startswith("categories"))
    assert categories_line.split() == ["categories", "0", "7", "0", "0", "0", "0", "0"]
    assert "Imported." in out


def test_finds_the_user_by_email_case_insensitively(user):
    run(str(SPA_FIXTURE), user=user.email.upper())

    assert Transaction.objects.filter(user=user).count() == 306


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
    assert not Transaction.objects.filter(user=user).exists()
    assert not Category.objects.filter(user=user).exists()


def test_timezone_option_decides_the_local_dates(user):
    run(str(SPA_FIXTURE), user=user.clerk_user_id, timezone="UTC")

    coffee = Transaction.objects.get(user=user, legacy_id=COFFEE)
    assert coffee.date == datetime.date(2025, 7, 24)


def test_replace_mode_deletes_first(user):
    TransactionFactory(user=user, description="사라질 거래")

    out, _ = run(str(SPA_FIXTURE), user=user.clerk_user_id, mode="replace")

    assert not Transaction.objects.filter(user=user, description="사라질 거래").exists()
    assert Transaction.objects.filter(user=user).count() == 306
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

    rule = RecurringTransaction.objects.get(user=user)
    assert Transaction.objects.get(user=user).recurring == rule
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


def test_max_bytes_refuses_large_files(user):
    with pytest.raises(CommandError, match="larger than the import limit of 100 bytes"):
        run(str(SPA_FIXTURE), user=user.clerk_user_id, max_bytes=100)


def test_progress_bar_on_large_files(user, tmp_path):
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
    out, err = run(write(tmp_path, {"version": 1, "transactions": rows}), user=user.clerk_user_id)

    assert "transactions [" in err
    assert "6,000/6,000 (100%)" in err
    assert Transaction.objects.filter(user=user).count() == 6000


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
