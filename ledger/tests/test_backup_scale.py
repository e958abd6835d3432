"""POST /backup/import at any size a user can reach: the file is read as a stream, limited by
rows (IMPORT_MAX_ROWS) not bytes, at most IMPORT_SLOTS imports run per process, and a 200,000
row ledger's own export (both formats) restores into a new account with equal totals."""

import datetime
import json
import random
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count, Sum
from django.http import HttpRequest

from accounts.tests.factories import UserFactory
from ledger.api.backup import IMPORT_SLOTS_OF_PROCESS
from ledger.models import Category, RecurringOccurrence, Transaction
from ledger.services.ledgers import personal_ledger
from ledger.services.transactions import transaction_bulk_create
from ledger.tests.backup_support import dexie_document, snapshot
from ledger.tests.factories import CategoryFactory, TransactionFactory

pytestmark = pytest.mark.django_db

URL = "/backup/import"
OWN_V1 = Path(__file__).parent / "fixtures" / "own-export-v1.json"
ROW = {
    "id": "a",
    "description": "점심",
    "amount": 9000,
    "type": "expense",
    "date": "2025-07-24T15:00:00.000Z",
    "category": "식비",
}


def post(client, body, **query):
    if not isinstance(body, bytes | str):
        body = json.dumps(body, ensure_ascii=False)
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return client.post(URL + suffix, data=body, content_type="application/json")


def spa(*rows):
    return {"version": 1, "exportDate": "2025-08-02T09:26:10.799Z", "transactions": list(rows)}


def rows(count: int, prefix: str = "r") -> list[dict]:
    return [{**ROW, "id": f"{prefix}{n}", "amount": 1000 + n} for n in range(count)]


def totals(user) -> dict:
    """(category name, year, month, type) → (sum, count): what a restore must reproduce."""
    found = (
        Transaction.objects.filter(ledger__personal_for=user)
        .values("category__name", "date__year", "date__month", "type")
        .annotate(total=Sum("amount"), count=Count("id"))
    )
    return {
        (r["category__name"], r["date__year"], r["date__month"], r["type"]): (
            r["total"],
            r["count"],
        )
        for r in found
    }


# --- limits by rows, not bytes --------------------------------------------------------------


def test_more_rows_than_import_max_rows_is_a_413_and_writes_nothing(auth_client, user, settings):
    settings.IMPORT_MAX_ROWS = 5
    TransactionFactory(user=user)
    before = snapshot(user)
    document = dexie_document(
        {"categories": [{"id": 1, "name": "쇼핑", "emoji": ""}], "transactions": rows(5)}
    )

    response = post(auth_client(user), document, mode="replace")

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert "more than 5 rows" in error["message"] and "IMPORT_MAX_ROWS" in error["message"]
    assert snapshot(user) == before
    # rows of every table count: one category and five transactions are six
    settings.IMPORT_MAX_ROWS = 6
    assert post(auth_client(user), document).status_code == 200


def test_a_value_longer_than_a_block_of_the_file_is_refused(auth_client, user):
    before = snapshot(user)
    huge = {**ROW, "description": "가" * 100_000}  # 300 KB of one string: never held whole

    response = post(auth_client(user), spa(ROW, huge))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_json"
    assert "longer than 65,536 bytes" in error["message"]
    assert snapshot(user) == before
    # an over-long value shorter than that is the ordinary row error naming the field
    response = post(auth_client(user), spa(ROW, {**huge, "description": "가" * 10_000}))
    assert response.status_code == 400
    assert "transactions[1].description" in response.json()["error"]["fields"]


def test_a_row_with_too_many_values_is_refused_naming_it(auth_client, user):
    junk = {**ROW, "id": "b", **{f"k{n}": n for n in range(10_000)}}

    response = post(auth_client(user), spa(ROW, junk))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_backup"
    assert "transactions[1]" in error["fields"]
    assert not Transaction.objects.filter(ledger__personal_for=user).exists()


def test_rows_nested_deeper_than_a_backup_are_refused(auth_client, user):
    deep = {**ROW, "id": "b", "category": {"a": {"a": {"a": {"a": {"a": {"a": {"a": {}}}}}}}}}

    response = post(auth_client(user), spa(ROW, deep))

    assert response.status_code == 400
    assert "transactions[1]" in response.json()["error"]["fields"]


def test_a_duplicate_key_refuses_the_file(auth_client, user):
    body = '{"version": 1, "transactions": [], "transactions": [' + json.dumps(ROW) + "]}"

    response = post(auth_client(user), body)

    assert response.status_code == 400
    assert "appears twice" in response.json()["error"]["message"]
    assert not Transaction.objects.filter(ledger__personal_for=user).exists()


def test_a_utf8_byte_order_mark_is_allowed(auth_client, user):
    body = b"\xef\xbb\xbf" + json.dumps(spa(ROW)).encode()

    response = post(auth_client(user), body)

    assert response.status_code == 200, response.json()
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 1


# --- the document's order does not matter ---------------------------------------------------


def test_an_export_with_its_keys_in_any_order_imports_the_same(auth_client, user, other_user):
    document = json.loads(OWN_V1.read_bytes())
    backwards = dict(reversed(list(document.items())))  # transactions first, format last
    assert list(backwards)[0] == "transactions"

    first = post(auth_client(user), document).json()
    second = post(auth_client(other_user), backwards).json()

    assert first["ok"] and second["ok"]
    assert first["created"] == second["created"]
    assert totals(user) == totals(other_user)
    linked = Transaction.objects.filter(ledger__personal_for=other_user, recurring__isnull=False)
    assert (
        linked.count()
        == Transaction.objects.filter(ledger__personal_for=user, recurring__isnull=False).count()
    )
    assert RecurringOccurrence.objects.filter(
        recurring__ledger__personal_for=other_user
    ).count() == sum(len(rule["occurrence_dates"]) for rule in document["recurring_transactions"])


def test_a_dexie_table_named_after_its_rows_is_still_read(auth_client, user):
    rule = {
        "id": 7,
        "template_name": "통신비",
        "amount": 55000,
        "type": "expense",
        "frequency": "monthly",
        "start_date": "2025-07",
        "day_of_month": 10,
    }
    linked = {**ROW, "id": 1, "date": "2025-07-09T15:00:00.000Z", "recurring_id": 7}
    document = dexie_document({"recurring_transactions": [rule], "transactions": [linked]})
    tables = document["data"]["data"]
    tables[0] = {"rows": tables[0]["rows"], "inbound": True, "tableName": tables[0]["tableName"]}

    report = post(auth_client(user), document).json()

    assert report["created"]["recurring_transactions"] == 1
    assert Transaction.objects.get(ledger__personal_for=user).recurring.template_name == "통신비"


# --- one import at a time per process slot --------------------------------------------------


def test_an_import_while_the_process_slots_are_taken_is_a_429_with_retry_after(
    auth_client, user, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "backup": "1/hour",
        },
    }
    client = auth_client(user)

    with IMPORT_SLOTS_OF_PROCESS.hold() as running:
        running.started = time.monotonic() - 30  # another import, 30 s in, a third done
        running.progress(1, 3)
        response = post(client, spa(ROW))

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "import_busy"
    assert 55 <= int(response["Retry-After"]) <= 60  # its time left, about 60 s
    assert not Transaction.objects.filter(ledger__personal_for=user).exists()
    # turned away before the rate limit counted it: the one import of the hour still runs
    response = post(client, spa(ROW))
    assert response.status_code == 200, response.json()
    assert post(client, spa(ROW)).json()["error"]["code"] == "throttled"


def test_more_slots_admit_more_imports_at_once(auth_client, user, settings):
    settings.IMPORT_SLOTS = 2
    with IMPORT_SLOTS_OF_PROCESS.hold():
        response = post(auth_client(user), spa(ROW))
        assert response.status_code == 200
        with IMPORT_SLOTS_OF_PROCESS.hold():
            response = post(auth_client(user), spa({**ROW, "id": "b"}))
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 2
    # and the slots are free again afterwards
    assert post(auth_client(user), spa({**ROW, "id": "b"})).status_code == 200


def test_an_exporting_user_is_not_held_by_an_import(auth_client, user):
    with IMPORT_SLOTS_OF_PROCESS.hold():
        response = auth_client(user).get("/backup/export")
    assert response.status_code == 200


# --- a large ledger, both export formats, into new accounts ---------------------------------


LARGE_LEDGER_ROWS = 200_000


def _large_ledger(user, count: int) -> None:
    """`count` transactions over ten years: default and own categories and none, income and
    expense, whole won and cents, and one row a month of a rule."""
    rng = random.Random(19)
    own = [CategoryFactory(user=user, name=name, emoji="") for name in ("헬스", "쇼핑", "반려")]
    categories = list(Category.objects.filter(ledger=None)) + own + [None]
    start = datetime.date(2016, 1, 1)
    rows = [
        Transaction(
            ledger_id=personal_ledger(user=user).pk,
            date=start + datetime.timedelta(days=rng.randrange(3650)),
            description=f"거래 {n}",
            amount=Decimal(rng.randrange(100, 900_000)) / (100 if n % 7 == 0 else 1),
            type="income" if n % 13 == 0 else "expense",
            category=rng.choice(categories),
            status="confirmed",
            legacy_id=str(n) if n % 2 else "",
        )
        for n in range(count)
    ]
    transaction_bulk_create(ledger=personal_ledger(user=user), transactions=rows)


def _export_to(client, path: Path, **query) -> None:
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    response = client.get("/backup/export" + suffix)
    assert response.status_code == 200
    with path.open("wb") as out:
        for chunk in response.streaming_content:
            out.write(chunk)


@pytest.mark.slow
def test_a_200k_row_ledger_exports_and_restores_into_new_users_with_equal_totals(
    auth_client, user, tmp_path
):
    # given a ledger whose own export is four times the old 20 MB limit
    _large_ledger(user, LARGE_LEDGER_ROWS)
    expected = totals(user)
    assert sum(count for _, count in expected.values()) == LARGE_LEDGER_ROWS

    for export_format in ("household_ledger", "spa-v1"):
        # when it is exported and imported into a new account
        path = tmp_path / f"{export_format}.json"
        _export_to(auth_client(user), path, format=export_format)
        if export_format == "household_ledger":
            assert path.stat().st_size > 4 * 20 * 1024 * 1024
        target = UserFactory()
        response = post(auth_client(target), path.read_bytes())

        # then every category and month adds up to the same, row for row
        assert response.status_code == 200, response.content[:500]
        report = response.json()
        assert report["ok"] and report["format"] == export_format
        assert report["rows"]["transactions"] == LARGE_LEDGER_ROWS
        assert report["created"]["transactions"] == LARGE_LEDGER_ROWS
        assert totals(target) == expected
        assert (
            Counter(
                Transaction.objects.filter(ledger__personal_for=target).values_list(
                    "legacy_id", flat=True
                )
            ).most_common(1)[0][1]
            == 1
        )


def test_a_ledger_restores_with_equal_totals_through_both_export_formats(auth_client, user):
    """The same round trip at a size every run affords (the slow test above is the real size),
    as a multipart upload this time."""
    _large_ledger(user, 3_000)
    expected = totals(user)
    for export_format in ("household_ledger", "spa-v1"):
        response = auth_client(user).get(f"/backup/export?format={export_format}")
        body = b"".join(response.streaming_content)
        target = UserFactory()
        upload = SimpleUploadedFile("backup.json", body, content_type="application/json")

        response = auth_client(target).post(URL, {"file": upload}, format="multipart")

        assert response.status_code == 200, response.content[:500]
        assert response.json()["format"] == export_format
        assert totals(target) == expected


# --- Idempotency-Key on an import: hashed from the spooled file, never the whole body -------


@pytest.fixture
def body_never_read_whole(monkeypatch):
    """`HttpRequest.body` holds the whole body in memory: an import must never touch it."""

    def refuse(request):
        raise AssertionError("the import read the whole request body into memory")

    monkeypatch.setattr(HttpRequest, "body", property(refuse))


def test_a_retried_json_import_with_its_key_is_replayed_not_imported_twice(
    auth_client, user, body_never_read_whole
):
    client = auth_client(user)
    body = json.dumps(spa(*rows(3)), ensure_ascii=False)
    send = lambda document: client.post(  # noqa: E731
        URL, data=document, content_type="application/json", HTTP_IDEMPOTENCY_KEY="restore-1"
    )

    first = send(body)
    again = send(body)

    assert first.status_code == again.status_code == 200, first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 3
    # another file under the same key is refused, not imported
    assert send(json.dumps(spa(*rows(4)))).status_code == 422
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 3


def test_a_multipart_import_key_covers_the_file_and_its_fields(
    auth_client, user, body_never_read_whole
):
    client = auth_client(user)
    content = json.dumps(spa(*rows(2)), ensure_ascii=False).encode()

    def send(data, **fields):
        upload = SimpleUploadedFile("backup.json", data, content_type="application/json")
        return client.post(
            URL, {"file": upload, **fields}, format="multipart", HTTP_IDEMPOTENCY_KEY="up-1"
        )

    first = send(content, mode="merge")
    assert first.status_code == 200, first.json()
    assert send(content, mode="merge")["Idempotent-Replayed"] == "true"
    # the same file with another mode is another request
    assert send(content, mode="replace").status_code == 422
    assert send(content + b" ", mode="merge").status_code == 422
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 2
