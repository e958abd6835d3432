"""Two clients updating the same transaction: ETag / If-Match, 412 on a lost update.

Policy: `If-Match` with the ETag read → 412 when the transaction changed in between (nothing
written); no `If-Match` → last write wins. Check and write happen under a row lock.
"""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from ledger.models import Transaction
from ledger.tests.factories import TransactionFactory


@pytest.fixture
def row(user):
    return TransactionFactory(user=user, amount=Decimal("1000"), description="원래")


def _etag(client, row):
    response = client.get(f"/transactions/{row.pk}")
    assert response.status_code == 200
    return response["ETag"]


@pytest.mark.django_db
def test_detail_answers_carry_an_etag_that_changes_with_every_write(auth_client, user, row):
    client = auth_client(user)
    first = _etag(client, row)
    assert first.startswith('"') and first.endswith('"')
    assert _etag(client, row) == first  # stable while unchanged

    changed = client.patch(f"/transactions/{row.pk}", {"amount": 2000}, format="json")
    assert changed.status_code == 200
    assert changed["ETag"] != first
    assert changed["ETag"] == _etag(client, row)


@pytest.mark.django_db
def test_write_with_the_current_etag_succeeds(auth_client, user, row):
    client = auth_client(user)
    etag = _etag(client, row)
    response = client.patch(
        f"/transactions/{row.pk}", {"amount": 2000}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200
    assert response.json()["amount"] == 2000


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_write_with_a_stale_etag_is_a_412_and_writes_nothing(auth_client, user, row, method):
    # given Alice and Bob's phone both read the transaction
    phone, laptop = auth_client(user), auth_client(user)
    stale = _etag(phone, row)
    # and the laptop changes it first
    assert (
        laptop.patch(
            f"/transactions/{row.pk}", {"description": "노트북"}, format="json"
        ).status_code
        == 200
    )

    # when the phone writes with what it read
    body = {"date": "2025-07-25", "description": "휴대폰", "amount": 3000, "type": "expense"}
    response = getattr(phone, method)(
        f"/transactions/{row.pk}",
        body if method != "delete" else None,
        format="json",
        HTTP_IF_MATCH=stale,
    )

    # then it is refused, and the laptop's change stands
    assert response.status_code == 412
    assert response.json()["error"]["code"] == "precondition_failed"
    row.refresh_from_db()
    assert row.description == "노트북" and row.amount == Decimal("1000")
    # and the phone is given the row as it is now, with its tag, to merge and retry
    assert response.json()["error"]["current"] == phone.get(f"/transactions/{row.pk}").json()
    assert response["ETag"] == _etag(phone, row)


@pytest.mark.django_db
def test_without_if_match_the_last_write_wins(auth_client, user, row):
    phone, laptop = auth_client(user), auth_client(user)
    assert (
        laptop.patch(f"/transactions/{row.pk}", {"amount": 2000}, format="json").status_code == 200
    )
    assert (
        phone.patch(f"/transactions/{row.pk}", {"amount": 3000}, format="json").status_code == 200
    )
    row.refresh_from_db()
    assert row.amount == Decimal("3000")


@pytest.mark.django_db
def test_if_match_star_and_weak_etags_are_understood(auth_client, user, row):
    client = auth_client(user)
    assert (
        client.patch(
            f"/transactions/{row.pk}", {"amount": 5}, format="json", HTTP_IF_MATCH="*"
        ).status_code
        == 200
    )
    etag = _etag(client, row)
    assert (
        client.patch(
            f"/transactions/{row.pk}",
            {"amount": 6},
            format="json",
            HTTP_IF_MATCH=f'"nope", W/{etag}',
        ).status_code
        == 200
    )


@pytest.mark.django_db
def test_another_users_transaction_is_404_whatever_the_if_match(auth_client, other_user, row):
    response = auth_client(other_user).patch(
        f"/transactions/{row.pk}", {"amount": 1}, format="json", HTTP_IF_MATCH="*"
    )
    assert response.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_clients_writing_with_the_same_etag_at_once_exactly_one_wins(
    auth_client, user, monkeypatch
):
    row = TransactionFactory(user=user, amount=Decimal("1000"))
    etag = _etag(auth_client(user), row)

    # Make the first write slow while it holds the row, so the second truly overlaps it.
    import ledger.api.transactions as views

    real_update = views.transaction_update

    def slow_update(**kwargs):
        time.sleep(0.5)
        return real_update(**kwargs)

    monkeypatch.setattr(views, "transaction_update", slow_update)

    results = {}
    start = threading.Barrier(2)

    def write(name, amount):
        try:
            client = auth_client(user)
            start.wait()
            response = client.patch(
                f"/transactions/{row.pk}", {"amount": amount}, format="json", HTTP_IF_MATCH=etag
            )
            results[name] = response.status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n, a)) for n, a in (("a", 2000), ("b", 3000))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(results.values()) == [200, 412]
    winner = 2000 if results["a"] == 200 else 3000
    assert Transaction.objects.get(pk=row.pk).amount == Decimal(winner)
