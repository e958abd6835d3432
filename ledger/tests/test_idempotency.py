"""`Idempotency-Key`: an offline queue replays writes safely after a lost response."""

import datetime
import threading

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from ledger.models import Category, IdempotencyRecord, Transaction
from ledger.services.idempotency import _lock_key, idempotency_purge

pytestmark = pytest.mark.django_db

LUNCH = {"date": "2025-07-25", "description": "점심", "amount": 5400, "type": "expense"}


def _post(client, key, body=LUNCH, path="/transactions"):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_gets_the_first_answer_and_writes_nothing(auth_client, user):
    client = auth_client(user)
    first = _post(client, "k-1")
    assert first.status_code == 201
    # when: the same request again (the client never saw the first answer)
    again = _post(client, "k-1")
    # then
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 1


def test_every_write_method_is_covered(auth_client, user):
    client = auth_client(user)
    created = _post(client, "create").json()
    path = f"/transactions/{created['id']}"
    for method, body in (("patch", {"amount": 6000}), ("put", {**LUNCH, "amount": 7000})):
        first = getattr(client, method)(path, body, format="json", HTTP_IDEMPOTENCY_KEY=method)
        again = getattr(client, method)(path, body, format="json", HTTP_IDEMPOTENCY_KEY=method)
        assert first.status_code == again.status_code == 200
        assert again.json() == first.json()
    assert client.delete(path, HTTP_IDEMPOTENCY_KEY="delete").status_code == 204
    # a replayed delete is the first 204, not a 404
    assert client.delete(path, HTTP_IDEMPOTENCY_KEY="delete").status_code == 204
    category = _post(client, "cat", {"name": "쇼핑"}, "/categories")
    assert _post(client, "cat", {"name": "쇼핑"}, "/categories").json() == category.json()
    assert Category.objects.filter(ledger__personal_for=user).count() == 1


def test_the_same_key_with_another_body_is_a_422(auth_client, user):
    client = auth_client(user)
    _post(client, "k-2")
    response = _post(client, "k-2", {**LUNCH, "amount": 9999})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 1


def test_a_refused_write_is_replayed_as_refused(auth_client, user):
    client = auth_client(user)
    first = _post(client, "bad", {**LUNCH, "amount": -1})
    assert first.status_code == 400
    assert _post(client, "bad", {**LUNCH, "amount": -1}).json() == first.json()


def test_keys_are_per_user(auth_client, user, other_user):
    _post(auth_client(user), "shared-key")
    response = _post(auth_client(other_user), "shared-key")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Transaction.objects.filter(ledger__personal_for=other_user).count() == 1


def test_without_a_key_nothing_is_stored(auth_client, user):
    client = auth_client(user)
    client.post("/transactions", LUNCH, format="json")
    client.post("/transactions", LUNCH, format="json")
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_answers_are_forgotten_after_a_day(auth_client, user):
    client = auth_client(user)
    _post(client, "old")
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=25), tick=False):
        assert idempotency_purge() == 1
    assert _post(client, "old").status_code == 201
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_retry_while_the_first_still_runs_is_a_409(auth_client, user):
    # given: the first request holds the key (its transaction is open, as while it writes)
    holding, release = threading.Event(), threading.Event()

    def hold():
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(user.pk, "busy")])
            holding.set()
            release.wait(10)
            cursor.execute("COMMIT")
        connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(10)
    try:
        # when
        response = _post(auth_client(user), "busy")
    finally:
        release.set()
        thread.join()
    # then
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_in_use"
    assert not Transaction.objects.filter(ledger__personal_for=user).exists()
