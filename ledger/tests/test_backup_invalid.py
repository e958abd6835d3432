"""Bad input to POST /backup/import: a 4xx naming the row and field, and nothing changes."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from ledger.tests.backup_support import dexie_document, snapshot, spa_fixture, spa_fixture_bytes
from ledger.tests.factories import (
    CategoryFactory,
    RecurringTransactionFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

URL = "/backup/import"
GOOD = {
    "id": "ok",
    "description": "점심",
    "amount": 9000,
    "type": "expense",
    "date": "2025-07-24T15:00:00.000Z",
    "category": "식비",
}


@pytest.fixture
def existing(user):
    """Data the user already has: every refused import must leave it exactly as it was."""
    rule = RecurringTransactionFactory(user=user, legacy_id="r1")
    TransactionFactory(user=user, legacy_id="t1", recurring=rule)
    TransactionFactory(user=user)
    CategoryFactory(user=user, name="내 카테고리")
    return snapshot(user)


def post(client, body, **query):
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return client.post(URL + suffix, data=body, content_type="application/json")


def spa(*rows):
    return {"version": 1, "exportDate": "2025-08-02T09:26:10.799Z", "transactions": list(rows)}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "invalid_json"),
        (b'{"version": 1, "transactions": [', "invalid_json"),
        (b"\xff\xfe\x00garbage", "invalid_json"),
        (b"   ", "invalid_json"),
        (b"[1, 2, 3]", "unsupported_format"),
        (b'"a string"', "unsupported_format"),
        (b"null", "unsupported_format"),
        (b'{"hello": "world"}', "unsupported_format"),
        (b'{"version": 2, "transactions": []}', "unsupported_version"),
        (b'{"version": 1, "transactions": {"a": 1}}', "invalid_backup"),
        (b'{"version": 1, "transactions": null}', "invalid_backup"),
        (b'{"format": "something-else", "version": 1}', "unsupported_format"),
        (b'{"format": "household_ledger", "version": 9}', "unsupported_version"),
        (b'{"format": "household_ledger", "version": 1, "transactions": []}', "invalid_backup"),
        (b'{"formatName": "dexie", "formatVersion": 2, "data": {}}', "unsupported_version"),
        (b'{"formatName": "dexie", "formatVersion": 1, "data": []}', "invalid_backup"),
        (
            b'{"formatName": "dexie", "formatVersion": 1, "data": {"data": [{"tableName": '
            b'"transactions", "rows": 5}]}}',
            "invalid_backup",
        ),
        (
            b'{"formatName": "dexie", "formatVersion": 1, "data": {"data": [{"tableName": '
            b'"friends", "inbound": true, "rows": []}]}}',
            "invalid_backup",
        ),
        (b"[" * 100000 + b"]" * 100000, "invalid_json"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_unreadable_documents_are_refused_whole(auth_client, user, existing, body, code):
    response = post(auth_client(user), body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert snapshot(user) == existing


BAD_TRANSACTIONS = [
    ("amount", {"amount": -5400}, "greater than 0"),
    ("amount", {"amount": 0}, "greater than 0"),
    ("amount", {"amount": "NaN"}, "number"),
    ("amount", {"amount": None}, "required"),
    ("amount", {"amount": "abc"}, "number"),
    ("amount", {"amount": "1e5"}, "number"),
    ("amount", {"amount": 1e20}, "too large"),
    ("amount", {"amount": 10**13}, "too large"),
    ("amount", {"amount": 12.345}, "decimal places"),
    ("amount", {"amount": True}, "number"),
    ("amount", {"amount": [5400]}, "number"),
    ("date", {"date": "2025-02-30"}, "valid date"),
    ("date", {"date": "2025-13-01"}, "valid date"),
    ("date", {"date": "yesterday"}, "valid date"),
    ("date", {"date": "3000-01-01"}, "out of range"),
    ("date", {"date": None}, "required"),
    ("date", {"date": {"year": 2025}}, "valid date"),
    ("type", {"type": "transfer"}, "expense, income"),
    ("type", {"type": None}, "required"),
    ("status", {"status": "pending"}, "confirmed, scheduled"),
    ("description", {"description": "x" * 501}, "too long"),
    ("description", {"description": {"text": "x"}}, "text"),
    ("id", {"id": True}, "integer or a string"),
    ("id", {"id": "x" * 65}, "too long"),
    ("id", {"id": 1.5}, "integer or a string"),
    ("category", {"category": ["식비"]}, "category name"),
    ("category", {"category": "식" * 101}, "too long"),
    ("recurring_id", {"recurring_id": {"id": 1}}, "integer or a string"),
]


@pytest.mark.parametrize(("field", "change", "reason"), BAD_TRANSACTIONS)
def test_a_bad_transaction_field_refuses_the_file_and_names_row_and_field(
    auth_client, user, existing, field, change, reason
):
    document = spa(GOOD, {**GOOD, "id": "bad", **change}, {**GOOD, "id": "ok2"})

    response = post(auth_client(user), document)

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid_backup"
    assert f"transactions[1].{field}" in error["fields"]
    assert reason in error["fields"][f"transactions[1].{field}"][0]
    problems = [p for p in error["report"]["problems"] if p["level"] == "error"]
    assert [(p["table"], p["index"], p["field"]) for p in problems] == [("transactions", 1, field)]
    assert reason in problems[0]["reason"]
    assert error["report"]["failed"] == 1
    assert snapshot(user) == existing


def test_nan_and_infinity_tokens_are_not_json_and_refuse_the_file(auth_client, user, existing):
    # JavaScript's JSON.stringify writes null for them; Python's json module would accept them.
    for token in ("NaN", "Infinity"):
        body = (
            '{"version": 1, "transactions": ['
            f'{{"id": 1, "description": "a", "amount": {token}, "type": "expense", '
            '"date": "2025-07-01"}]}'
        )

        response = post(auth_client(user), body)

        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_json"
        assert snapshot(user) == existing


def test_rows_that_are_not_objects_are_reported(auth_client, user, existing):
    response = post(auth_client(user), spa(GOOD, "a string", [1, 2], None, 7))

    error = response.json()["error"]
    assert response.status_code == 400
    assert error["report"]["failed"] == 4
    assert set(error["fields"]) == {f"transactions[{i}]" for i in range(1, 5)}
    assert snapshot(user) == existing


def test_every_bad_row_is_reported_at_once(auth_client, user, existing):
    rows = [{**GOOD, "id": str(i)} for i in range(20)]
    rows[3]["amount"] = -1
    rows[7]["date"] = "2025-02-30"
    rows[7]["type"] = "gift"
    rows[15]["amount"] = "lots"

    response = post(auth_client(user), spa(*rows))

    error = response.json()["error"]
    assert response.status_code == 400
    assert error["report"]["failed"] == 3
    assert error["report"]["errors"] == 4
    assert set(error["fields"]) == {
        "transactions[3].amount",
        "transactions[7].date",
        "transactions[7].type",
        "transactions[15].amount",
    }
    assert "3 rows" in error["message"]
    assert snapshot(user) == existing


@pytest.mark.parametrize("mode", ["merge", "replace"])
def test_ten_thousand_rows_with_one_bad_row_in_the_middle_change_nothing(
    auth_client, user, existing, mode
):
    rows = [
        {
            "id": f"row-{i}",
            "description": f"거래 {i}",
            "amount": 1000 + i,
            "type": "expense",
            "date": "2025-07-24T15:00:00.000Z",
            "category": "식비",
        }
        for i in range(10_000)
    ]
    rows[5_000]["amount"] = -3

    response = post(auth_client(user), spa(*rows), mode=mode)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["fields"] == {"transactions[5000].amount": ["must be greater than 0, not -3"]}
    [problem] = error["report"]["problems"]
    assert problem == {
        "level": "error",
        "table": "transactions",
        "index": 5000,
        "id": "row-5000",
        "field": "amount",
        "reason": "must be greater than 0, not -3",
    }
    assert snapshot(user) == existing  # replace mode's deletions were rolled back too


def test_dry_run_of_a_bad_file_reports_failures_with_200(auth_client, user, existing):
    response = post(auth_client(user), spa(GOOD, {**GOOD, "id": "b", "amount": -1}), dry_run="true")

    assert response.status_code == 200
    report = response.json()
    assert report["ok"] is False and report["failed"] == 1 and report["dry_run"] is True
    assert snapshot(user) == existing


BAD_RULES = [
    ("day_of_month", {"day_of_month": 32}, "between 1 and 31"),
    ("day_of_month", {"day_of_month": "first"}, "whole number"),
    ("day_of_month", {"day_of_month": None}, "required"),
    ("start_date", {"start_date": "2025-13"}, "valid month"),
    ("start_date", {"start_date": None}, "required"),
    ("end_date", {"end_date": "2024-12"}, "before the start"),  # the rules service says so
    ("frequency", {"frequency": "weekly"}, "monthly, yearly"),
    ("amount", {"amount": -10}, "greater than 0"),
    ("is_active", {"is_active": "maybe"}, "true or false"),
    ("template_name", {"template_name": "", "description": ""}, "empty"),
    ("type", {"type": "both"}, "expense, income"),
]


@pytest.mark.parametrize(("field", "change", "reason"), BAD_RULES)
def test_a_bad_rule_refuses_the_dexie_dump(auth_client, user, existing, field, change, reason):
    rule = {
        "id": 1,
        "template_name": "월세",
        "description": "월세",
        "amount": 500000,
        "type": "expense",
        "frequency": "monthly",
        "start_date": "2025-01",
        "end_date": None,
        "day_of_month": 25,
        "is_active": 1,
        "is_variable_amount": 0,
    }
    document = dexie_document(
        {
            "recurring_transactions": [rule, {**rule, "id": 2, **change}],
            "transactions": [{**GOOD, "id": 5, "recurring_id": 1}],
        }
    )

    response = post(auth_client(user), document, mode="replace")

    assert response.status_code == 400, response.json()
    fields = response.json()["error"]["fields"]
    assert list(fields) == [f"recurring_transactions[1].{field}"]
    assert reason in fields[f"recurring_transactions[1].{field}"][0]
    assert snapshot(user) == existing


def test_invalid_typeson_date_is_reported(auth_client, user, existing):
    document = dexie_document(
        {
            "transactions": [
                {**GOOD, "id": 1, "date": "NaN", "$types": {"date": "date"}},
            ]
        }
    )

    response = post(auth_client(user), document)

    assert response.status_code == 400
    assert "transactions[0].date" in response.json()["error"]["fields"]
    assert snapshot(user) == existing


def test_confirmed_row_without_amount_is_refused_even_when_linked(auth_client, user, existing):
    document = spa({**GOOD, "amount": None, "status": "confirmed", "recurring_id": "r1"})

    response = post(auth_client(user), document)

    assert response.status_code == 400
    assert "transactions[0].amount" in response.json()["error"]["fields"]


def test_unknown_mode_is_a_field_error(auth_client, user, existing):
    response = post(auth_client(user), spa_fixture_bytes(), mode="overwrite")

    assert response.status_code == 400
    assert "mode" in response.json()["error"]["fields"]
    assert snapshot(user) == existing


def test_multipart_without_a_file_is_a_field_error(auth_client, user):
    response = auth_client(user).post(URL, {"mode": "merge"}, format="multipart")

    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]


def test_empty_body_is_a_field_error(auth_client, user):
    response = auth_client(user).post(URL, data=b"", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_other_content_types_are_415(auth_client, user):
    response = auth_client(user).post(URL, data=b"<xml/>", content_type="application/xml")

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


@override_settings(IMPORT_MAX_BYTES=1000)
def test_json_body_over_the_limit_is_413(auth_client, user, existing):
    # Twenty of the fixture's rows: over the limit, under the early Content-Length check's
    # slack (64 KiB), so the body is read and refused by the limit itself.
    document = spa_fixture()
    document["transactions"] = document["transactions"][:20]
    raw = json.dumps(document, ensure_ascii=False).encode()
    assert 1000 < len(raw) < 64 * 1024

    response = post(auth_client(user), raw)

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert "1,000 bytes" in error["message"]
    assert snapshot(user) == existing


@override_settings(IMPORT_MAX_BYTES=1000)
def test_uploaded_file_over_the_limit_is_413(auth_client, user, existing):
    upload = SimpleUploadedFile("backup.json", spa_fixture_bytes(), "application/json")

    response = auth_client(user).post(URL, {"file": upload}, format="multipart")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert snapshot(user) == existing


@override_settings(IMPORT_MAX_BYTES=100)
def test_body_just_over_the_limit_without_content_length_slack_is_413(auth_client, user):
    # Under the early Content-Length check (limit + slack), caught while reading the body.
    response = post(auth_client(user), b" " * 101)

    assert response.status_code == 413


def test_unknown_time_zone_is_reported_not_a_500(auth_client, user, existing):
    user.time_zone = "Mars/Olympus"
    user.save()

    response = post(auth_client(user), spa_fixture_bytes())

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_time_zone"
    assert snapshot(user) == existing


def test_a_file_of_bad_rows_lists_the_first_thousand_and_counts_the_rest(auth_client, user):
    rows = [{**GOOD, "id": str(i), "amount": -i - 1} for i in range(1500)]

    response = post(auth_client(user), spa(*rows))

    report = response.json()["error"]["report"]
    assert report["failed"] == 1500 and report["errors"] == 1500
    assert len(report["problems"]) == 1000
    assert report["problems_not_listed"] == 500
    assert report["problems"][-1]["index"] == 999
