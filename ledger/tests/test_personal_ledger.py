"""The personal ledger of a user: created once, with its owner membership, even under a race."""

import threading

import pytest
from django.db import connection

from accounts.tests.factories import UserFactory
from ledger.models import Ledger, LedgerRole, Membership
from ledger.services.ledgers import PERSONAL_LEDGER_NAME, personal_ledger


@pytest.mark.django_db
def test_first_sight_creates_the_ledger_and_its_owner():
    user = UserFactory()
    ledger = personal_ledger(user=user)
    assert ledger.is_personal and ledger.name == PERSONAL_LEDGER_NAME
    assert list(Membership.objects.filter(ledger=ledger).values_list("user_id", "role")) == [
        (user.pk, LedgerRole.OWNER)
    ]
    assert personal_ledger(user=user) == ledger
    assert Ledger.objects.filter(personal_for=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_requests_create_one_ledger(monkeypatch):
    user = UserFactory()
    # Both callers miss the lookup before either creates: the unique key decides.
    both_missed = threading.Barrier(2, timeout=30)
    original_filter = Ledger.objects.filter

    def filter_then_wait(*args, **kwargs):
        found = original_filter(*args, **kwargs)
        if "personal_for" in kwargs:
            assert found.first() is None
            both_missed.wait()
        return found

    monkeypatch.setattr(Ledger.objects, "filter", filter_then_wait)
    results, errors = [], []

    def first_request():
        try:
            results.append(personal_ledger(user=user).pk)
        except Exception as error:  # noqa: BLE001 — reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first_request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(results) == 2 and len(set(results)) == 1
    assert Ledger.objects.count() == 1
    assert Membership.objects.filter(user=user).count() == 1
