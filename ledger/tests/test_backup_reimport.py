"""Re-importing a newer backup in merge mode: what the browser changed wins, unless the server
changed the row too (a conflict, the server's kept); rows the file lacks are listed, not deleted.

The pair of SPA backups: the older is `fixtures/spa-backup-own.json`, the newer (`newer_spa`)
the same household two weeks later, after re-categorizing, re-dating and re-amounting rows in
the browser and adding two.
"""

import copy
import datetime
import json
from collections import defaultdict
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from ledger.models import Category, Ledger, RecurringTransaction, Transaction
from ledger.services.transactions import transaction_confirm_due
from ledger.tests.backup_support import (
    COFFEE,
    PLAIN_NAMES,
    dexie_document,
    js_time,
    local_date,
    snapshot,
    spa_fixture,
)

pytestmark = pytest.mark.django_db

URL = "/backup/import"
TABLES = ("categories", "recurring_transactions", "transactions")

# What the user changed in the browser between the two backups (row ids of the fixture).
RECATEGORIZED = (6, "004bf962-1d43-446e-b9df-67f29d8f3bf4", "01953432-3785-47c0-b3e8-7a9cc579dfbb")
REDATED = {
    COFFEE: "2025-07-25T15:00:00.000Z",  # 25 → 26 July
    "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a": "2025-07-31T16:10:00.000Z",  # 31 July → 1 August
}
REAMOUNTED = {10: 27400, "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e": 199000}
ADDED = [
    {
        "id": "7d1c9e2a-4b3f-4e5d-8a6b-1c2d3e4f5a6b",
        "description": "추석 선물세트",
        "amount": 59000,
        "type": "expense",
        "date": "2025-09-05T15:00:00.000Z",
        "category": "기타",
        "status": "confirmed",
        "recurring_id": None,
    },
    {
        "id": "2e3f4a5b-6c7d-4e8f-9a0b-1c2d3e4f5a6c",
        "description": "아이밀",
        "amount": 9100,
        "type": "expense",
        "date": "2025-09-08T15:00:00.000Z",
        "category": "식비",
        "status": "confirmed",
        "recurring_id": None,
    },
]
CHANGED_FIELDS = {
    **{str(key): ["category"] for key in RECATEGORIZED},
    **{str(key): ["date"] for key in REDATED},
    **{str(key): ["amount"] for key in REAMOUNTED},
}


def older_spa() -> dict:
    return spa_fixture()


def newer_spa(*, drop: tuple = ()) -> dict:
    document = copy.deepcopy(spa_fixture())
    rows = []
    for row in document["transactions"]:
        if row["id"] in drop:
            continue
        if row["id"] in RECATEGORIZED:
            assert PLAIN_NAMES.get(row["category"], row["category"]) == "식비"
            row["category"] = "간식류"
        row["date"] = REDATED.get(row["id"], row["date"])
        row["amount"] = REAMOUNTED.get(row["id"], row["amount"])
        rows.append(row)
    document["transactions"] = rows + copy.deepcopy(ADDED)
    document["exportDate"] = "2025-09-15T10:03:51.204Z"
    return document


def post_json(client, document, **query):
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    response = client.post(URL + suffix, data=json.dumps(document), content_type="application/json")
    assert response.status_code == 200, response.json()
    return response.json()


def row(user, key) -> Transaction:
    return Transaction.objects.select_related("category").get(
        ledger__personal_for=user, legacy_id=str(key)
    )


def revision(user) -> int:
    return Ledger.objects.get(personal_for=user).revision


def file_totals(document: dict) -> tuple[dict, dict]:
    """From the file's rows, as the SPA adds them up: (category name, type) → total, and
    (month, type) → total, on Seoul dates."""
    by_category, by_month = defaultdict(Decimal), defaultdict(Decimal)
    for entry in document["transactions"]:
        amount = Decimal(str(entry["amount"]))
        name = PLAIN_NAMES.get(entry["category"], entry["category"])
        by_category[(name, entry["type"])] += amount
        day = local_date(entry["date"])
        by_month[(day.month, entry["type"])] += amount
    return dict(by_category), dict(by_month)


def server_totals(client) -> tuple[dict, dict]:
    """The same totals as the API answers them (GET /stats/category, /stats/monthly)."""
    body = client.get("/stats/category?date_from=2025-01-01&date_to=2025-12-31").json()
    by_category = {
        (entry["name"], entry["type"]): Decimal(str(entry["total"]))
        for entry in body["categories"]
        if entry["total"]
    }
    by_month = {}
    for month in range(1, 13):
        stats = client.get(f"/stats/monthly/2025/{month}").json()
        for kind in ("income", "expense"):
            if stats[kind]:
                by_month[(month, kind)] = Decimal(str(stats[kind]))
    return by_category, by_month


# --- an SPA backup, then a newer one ----------------------------------------------------------


def test_a_newer_backup_updates_the_rows_changed_in_the_browser(auth_client, user):
    # given
    client = auth_client(user)
    post_json(client, older_spa())

    # when
    report = post_json(client, newer_spa())

    # then
    assert report["created"]["transactions"] == 2
    assert report["updated"]["transactions"] == 7
    assert report["skipped"]["transactions"] == 306 - 7
    assert report["conflicts"]["transactions"] == 0
    assert report["missing_from_file"]["transactions"] == 0
    assert {c["id"]: c["fields"] for c in report["changes"]} == CHANGED_FIELDS
    assert {c["action"] for c in report["changes"]} == {"updated"}
    assert {row(user, key).category.name for key in RECATEGORIZED} == {"간식류"}
    assert row(user, COFFEE).date == datetime.date(2025, 7, 26)
    assert row(user, "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a").date == datetime.date(2025, 8, 1)
    assert row(user, 10).amount == Decimal("27400")
    assert row(user, "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e").amount == Decimal("199000")
    coffee = next(c for c in report["changes"] if c["id"] == COFFEE)
    assert coffee["server"] == {
        "date": "2025-07-25",
        "description": "카페 CHIPS 아아 2잔",
        "amount": 9000,
        "type": "expense",
        "category": "카페",
        "status": "confirmed",
    }
    assert coffee["file"] == {**coffee["server"], "date": "2025-07-26"}
    assert coffee["server_id"] == str(row(user, COFFEE).pk)


def test_after_the_merge_category_and_month_totals_equal_the_newer_files(auth_client, user):
    client = auth_client(user)
    post_json(client, older_spa())
    before = server_totals(client)
    assert before != file_totals(newer_spa())  # the browser's changes move totals

    post_json(client, newer_spa())

    assert server_totals(client) == file_totals(newer_spa())


def test_running_the_newer_file_again_changes_nothing(auth_client, user):
    client = auth_client(user)
    post_json(client, older_spa())
    post_json(client, newer_spa())
    before, revision_before = snapshot(user), revision(user)

    report = post_json(client, newer_spa())

    assert report["created"]["transactions"] == 0
    assert report["updated"] == dict.fromkeys(TABLES, 0)
    assert report["conflicts"] == dict.fromkeys(TABLES, 0)
    assert report["skipped"]["transactions"] == 308
    assert report["changes"] == []
    assert snapshot(user) == before
    assert revision(user) == revision_before  # not even a bookkeeping write


def test_a_dry_run_lists_each_change_and_writes_nothing(auth_client, user):
    client = auth_client(user)
    post_json(client, older_spa())
    before = snapshot(user)

    report = post_json(client, newer_spa(), dry_run="true")

    assert report["dry_run"] is True
    assert (report["created"]["transactions"], report["updated"]["transactions"]) == (2, 7)
    assert {c["id"]: c["fields"] for c in report["changes"]} == CHANGED_FIELDS
    recategorized = next(c for c in report["changes"] if c["id"] == "6")
    assert (recategorized["server"]["category"], recategorized["file"]["category"]) == (
        "식비",
        "간식류",
    )
    assert report["changes_not_listed"] == 0
    assert snapshot(user) == before


def test_a_row_edited_on_the_server_is_a_conflict_and_the_server_version_stays(auth_client, user):
    # given: the older backup imported, then the coffee's amount corrected through the API
    # (the browser re-dated it meanwhile) and a row the browser did not touch renamed
    client = auth_client(user)
    post_json(client, older_spa())
    coffee = row(user, COFFEE)
    patched = client.patch(f"/transactions/{coffee.pk}", {"amount": 9500}, format="json")
    assert patched.status_code == 200, patched.json()
    untouched = row(user, 14)
    patched = client.patch(
        f"/transactions/{untouched.pk}", {"description": "엄마랑 칼국수 🍜"}, format="json"
    )
    assert patched.status_code == 200, patched.json()

    # when
    report = post_json(client, newer_spa())

    # then: the coffee is a conflict with both versions, the rest of the browser's edits apply
    assert report["conflicts"]["transactions"] == 1
    assert report["updated"]["transactions"] == 6
    conflict = next(c for c in report["changes"] if c["action"] == "conflict")
    assert (conflict["id"], conflict["fields"]) == (COFFEE, ["date", "amount"])
    assert (conflict["server"]["date"], conflict["server"]["amount"]) == ("2025-07-25", 9500)
    assert (conflict["file"]["date"], conflict["file"]["amount"]) == ("2025-07-26", 9000)
    coffee.refresh_from_db()
    assert (coffee.date, coffee.amount) == (datetime.date(2025, 7, 25), Decimal("9500"))
    # A server edit of a row the browser left alone is no conflict: it simply stays.
    assert row(user, 14).description == "엄마랑 칼국수 🍜"
    assert "14" not in {c["id"] for c in report["changes"]}

    # and a second run reports the same conflict and still writes nothing
    before = snapshot(user)
    again = post_json(client, newer_spa())
    assert (again["conflicts"]["transactions"], again["updated"]["transactions"]) == (1, 0)
    assert snapshot(user) == before


@time_machine.travel(datetime.datetime(2025, 9, 20, 1, 0, tzinfo=datetime.UTC))
def test_the_nightly_confirmation_counts_as_a_server_edit(auth_client, user):
    # given: September's scheduled rows imported, then confirmed by the nightly task
    client = auth_client(user)
    post_json(client, older_spa())
    gas, phone = "dbbeee25-e044-4656-a602-0db5a0767e1c", "1e5b2fb9-9d6b-493a-81fc-efdbb1b63170"
    assert transaction_confirm_due() == 3
    newer = newer_spa()
    for entry in newer["transactions"]:
        if entry["id"] == gas:  # the real bill, entered in the browser, still scheduled there
            entry["amount"] = 27000
        if entry["id"] == phone:  # confirmed in the browser too: both sides agree
            entry["status"] = "confirmed"

    # when
    report = post_json(client, newer)

    # then
    conflict = next(c for c in report["changes"] if c["action"] == "conflict")
    assert (conflict["id"], conflict["fields"]) == (gas, ["amount", "status"])
    assert (conflict["server"]["status"], conflict["file"]["status"]) == ("confirmed", "scheduled")
    assert (row(user, gas).amount, row(user, gas).status) == (Decimal("25000"), "confirmed")
    assert row(user, phone).status == "confirmed"
    assert phone not in {c["id"] for c in report["changes"]}


def test_rows_the_newer_file_lacks_are_listed_and_kept(auth_client, user):
    client = auth_client(user)
    post_json(client, older_spa())

    report = post_json(client, newer_spa(drop=(11,)))

    assert report["missing_from_file"]["transactions"] == 1
    missing = next(c for c in report["changes"] if c["action"] == "missing_from_file")
    assert (missing["id"], missing["index"], missing["file"]) == ("11", None, None)
    assert (missing["server"]["description"], missing["server"]["amount"]) == ("배민 치킨", 13100)
    assert row(user, 11).amount == Decimal("13100")  # not deleted
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 308


def test_rows_imported_before_the_import_hash_existed(auth_client, user):
    # given: rows imported before there was an import_hash; one was edited after its import
    client = auth_client(user)
    post_json(client, older_spa())
    Transaction.objects.filter(ledger__personal_for=user).update(import_hash="")
    edited = row(user, RECATEGORIZED[1])
    Transaction.objects.filter(pk=edited.pk).update(
        updated_at=edited.created_at + datetime.timedelta(days=3)
    )

    # when
    report = post_json(client, newer_spa())

    # then: a row nothing wrote since its insert takes the file's version; the edited one
    # cannot be told apart from a server edit, so it is a conflict
    assert (report["updated"]["transactions"], report["conflicts"]["transactions"]) == (6, 1)
    assert row(user, RECATEGORIZED[0]).category.name == "간식류"
    assert row(user, RECATEGORIZED[1]).category.name == "식비"
    # Rows both sides agree on get their base now: a second run has nothing to say.
    assert Transaction.objects.filter(ledger__personal_for=user, import_hash="").count() == 1
    assert post_json(client, newer_spa())["changes"][0]["id"] == RECATEGORIZED[1]


# --- the command and the API agree ------------------------------------------------------------


def run_command(path, user) -> str:
    out = StringIO()
    call_command("import_indexeddb", str(path), user=user.clerk_user_id, stdout=out)
    return out.getvalue()


# The command's table columns, named as the API's report names the counts.
COUNTS = ("rows", "created", "skipped", "deleted", "updated", "conflicts", "missing_from_file")


def command_counts(out: str) -> dict:
    counts = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] in TABLES:
            counts[parts[0]] = dict(zip(COUNTS, map(int, parts[1:]), strict=True))
    return counts


def api_counts(report: dict) -> dict:
    return {table: {name: report[name][table] for name in COUNTS} for table in TABLES}


def test_the_command_and_the_api_report_the_same_counts(auth_client, user, other_user, tmp_path):
    # given: one user imports by the command, the other through the API; both correct the
    # coffee's amount on the server (the browser re-dated it: a conflict)
    older, newer = tmp_path / "older.json", tmp_path / "newer.json"
    older.write_text(json.dumps(older_spa()), encoding="utf-8")
    newer.write_text(json.dumps(newer_spa(drop=(11,))), encoding="utf-8")
    run_command(older, user)
    post_json(auth_client(other_user), older_spa())
    for who in (user, other_user):
        coffee = row(who, COFFEE)
        patched = auth_client(who).patch(
            f"/transactions/{coffee.pk}", {"amount": 9500}, format="json"
        )
        assert patched.status_code == 200, patched.json()

    # when
    out = run_command(newer, user)
    report = post_json(auth_client(other_user), newer_spa(drop=(11,)))

    # then

    assert command_counts(out) == api_counts(report)
    assert report["updated"]["transactions"] == 6
    assert report["conflicts"]["transactions"] == 1
    assert report["missing_from_file"]["transactions"] == 1
    assert "  conflict transactions[" in out and "the server's version stays" in out
    assert "  missing  transactions (id 11): not in the file" in out

    def ledger(who):
        return sorted(
            Transaction.objects.filter(ledger__personal_for=who).values_list(
                "legacy_id", "date", "amount", "category__name", "status"
            )
        )

    assert ledger(user) == ledger(other_user)


# --- Dexie dumps: rules and categories too ----------------------------------------------------


def dexie_pair_document(*, rent: int, emoji: str, august_amount: int) -> dict:
    """The browser's ledger on 2 August 2025: a rent rule since June (two confirmed months and
    August scheduled), a category of the user's own."""
    rule = {
        "id": 1,
        "template_name": "월세",
        "description": "원룸 월세",
        "amount": rent,
        "type": "expense",
        "category": "월세",
        "frequency": "monthly",
        "start_date": "2025-06",
        "end_date": None,
        "day_of_month": 25,
        "is_active": 1,
        "is_variable_amount": 0,
    }
    rows = [
        {
            "id": 100 + month,
            "description": "원룸 월세",
            "amount": amount,
            "type": "expense",
            "date": js_time(datetime.date(2025, month, 25)),
            "category": "월세",
            "status": status,
            "recurring_id": 1,
            "$types": {"date": "date"},
        }
        for month, amount, status in (
            (6, 550000, "confirmed"),
            (7, 550000, "confirmed"),
            (8, august_amount, "scheduled"),
        )
    ]
    rows.append(
        {
            "id": 200,
            "description": "PT 10회",
            "amount": 300000,
            "type": "expense",
            "date": js_time(datetime.date(2025, 7, 3)),
            "category": "헬스",
            "status": "confirmed",
            "recurring_id": None,
            "$types": {"date": "date"},
        }
    )
    categories = [
        {"id": 1, "name": "헬스", "emoji": emoji},
        {"id": 2, "name": "월세", "emoji": "🏠"},
    ]
    return dexie_document(
        {"categories": categories, "recurring_transactions": [rule], "transactions": rows}
    )


DEXIE_OLDER = {"rent": 550000, "emoji": "💪", "august_amount": 550000}
DEXIE_NEWER = {"rent": 600000, "emoji": "🏋️", "august_amount": 600000}


def rent_occurrences(user) -> list:
    return sorted(
        Transaction.objects.filter(ledger__personal_for=user, recurring__legacy_id="1").values_list(
            "date", "amount", "status"
        )
    )


@time_machine.travel(datetime.datetime(2025, 8, 2, 9, 0, tzinfo=datetime.UTC))
def test_a_rule_edited_in_the_browser_updates_the_rule_and_its_future_occurrences(
    auth_client, user
):
    # given
    client = auth_client(user)
    post_json(client, dexie_pair_document(**DEXIE_OLDER))

    # when
    report = post_json(client, dexie_pair_document(**DEXIE_NEWER))

    # then: the rule, its future scheduled occurrences (through the horizon), not its history
    assert report["updated"] == {"categories": 1, "recurring_transactions": 1, "transactions": 0}
    assert report["conflicts"] == dict.fromkeys(TABLES, 0)
    rule_change = next(c for c in report["changes"] if c["table"] == "recurring_transactions")
    assert (rule_change["fields"], rule_change["server"]["amount"]) == (["amount"], 550000)
    assert RecurringTransaction.objects.get(
        ledger__personal_for=user, legacy_id="1"
    ).amount == Decimal("600000")
    assert rent_occurrences(user) == [
        (datetime.date(2025, 6, 25), Decimal("550000"), "confirmed"),
        (datetime.date(2025, 7, 25), Decimal("550000"), "confirmed"),
        (datetime.date(2025, 8, 25), Decimal("600000"), "scheduled"),
        (datetime.date(2025, 9, 25), Decimal("600000"), "scheduled"),
    ]
    assert Category.objects.get(ledger__personal_for=user, name="헬스").emoji == "🏋️"
    # The browser's August row agrees with what the rule's update made of it: no change.
    assert report["skipped"]["transactions"] == 4

    # and running it again changes nothing
    before, revision_before = snapshot(user), revision(user)
    again = post_json(client, dexie_pair_document(**DEXIE_NEWER))
    assert again["updated"] == dict.fromkeys(TABLES, 0) and again["changes"] == []
    assert (snapshot(user), revision(user)) == (before, revision_before)


@time_machine.travel(datetime.datetime(2025, 8, 2, 9, 0, tzinfo=datetime.UTC))
def test_a_rule_edited_on_the_server_and_in_the_browser_is_a_conflict(auth_client, user):
    client = auth_client(user)
    post_json(client, dexie_pair_document(**DEXIE_OLDER))
    rule = RecurringTransaction.objects.get(ledger__personal_for=user, legacy_id="1")
    patched = client.patch(f"/recurring/{rule.pk}", {"amount": 580000}, format="json")
    assert patched.status_code == 200, patched.json()

    report = post_json(client, dexie_pair_document(**DEXIE_NEWER))

    assert report["conflicts"]["recurring_transactions"] == 1
    conflict = next(c for c in report["changes"] if c["table"] == "recurring_transactions")
    assert conflict["action"] == "conflict"
    assert (conflict["server"]["amount"], conflict["file"]["amount"]) == (580000, 600000)
    rule.refresh_from_db()
    assert rule.amount == Decimal("580000")
    # The August occurrence: rewritten by the server's rule edit, and changed in the browser.
    assert report["conflicts"]["transactions"] == 1
    assert (datetime.date(2025, 8, 25), Decimal("580000"), "scheduled") in rent_occurrences(user)


@time_machine.travel(datetime.datetime(2025, 8, 2, 9, 0, tzinfo=datetime.UTC))
def test_a_rule_the_newer_dump_lacks_is_listed_and_kept(auth_client, user):
    client = auth_client(user)
    post_json(client, dexie_pair_document(**DEXIE_OLDER))
    document = dexie_pair_document(**DEXIE_OLDER)
    tables = {entry["tableName"]: entry for entry in document["data"]["data"]}
    tables["recurring_transactions"]["rows"] = []

    report = post_json(client, document)

    assert report["missing_from_file"]["recurring_transactions"] == 1
    assert RecurringTransaction.objects.filter(ledger__personal_for=user, legacy_id="1").exists()
