"""Database errors say what happened, through HTTP: real errors from real PostgreSQL.

Unreachable → 503 with Retry-After; a value it cannot store → 400; a model constraint → 400
naming its fields; anything else is a bug → 500 JSON, logged. (The server really down, under
gunicorn, is test_database_faults.py.)
"""

import logging

import pytest
from django.db import connection
from rest_framework.test import APIClient

from household_ledger.api.exceptions import constraint_fields

pytestmark = [pytest.mark.django_db, pytest.mark.urls("household_ledger.tests.echo_urls")]


@pytest.fixture
def client():
    return APIClient(raise_request_exception=False)


@pytest.mark.parametrize("kind", ["out-of-range", "nul"])
def test_a_value_the_database_cannot_store_is_a_400(client, kind):
    response = client.get(f"/_db/{kind}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "cannot be stored" in error["message"]
    assert "Retry-After" not in response


@pytest.mark.parametrize(("kind", "field"), [("unique", "name"), ("check", "name")])
def test_a_model_constraint_is_a_400_naming_its_field(client, kind, field):
    response = client.get(f"/_db/{kind}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == [field]  # not the owner (`ledger`): that is no one's input


def test_every_model_constraint_names_fields():
    known = constraint_fields()
    assert known["category_name_unique_per_ledger"][0] == ["name"]
    assert known["transaction_one_per_recurring_date"][0] == ["recurring", "date"]
    assert known["recurring_day_of_month_range"][0] == ["day_of_month"]
    assert all(fields for fields, _ in known.values())


@pytest.mark.parametrize("kind", ["not-null", "no-table"])
def test_any_other_database_error_is_a_logged_500(client, kind, caplog):
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get(f"/_db/{kind}")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "server_error"
    assert "Retry-After" not in response
    assert any(record.exc_info for record in caplog.records if record.name == "django.request")


@pytest.mark.django_db(transaction=True)
def test_a_lost_connection_is_a_503_with_retry_after(client):
    try:
        response = client.get("/_db/gone")
    finally:
        connection.close()  # the server ended this session; the next query opens another
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response["Retry-After"] == "5"
    assert client.get("/_echo").status_code == 200


def test_a_crash_with_debug_on_is_still_the_json_500_not_the_debug_page(client, settings, caplog):
    settings.DEBUG = True
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/_db/not-null")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "server_error"
    assert any(record.exc_info for record in caplog.records if record.name == "django.request")
