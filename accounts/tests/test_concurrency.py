"""Two first requests at once create exactly one user (real threads, real transactions)."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.tokens import mint_token

pytestmark = pytest.mark.django_db(transaction=True)


def _concurrent_first_requests(clerk_user_id, count):
    token = mint_token(sub=clerk_user_id, lifetime=300)
    start = threading.Barrier(count, timeout=30)
    results = [None] * count

    def request(index):
        try:
            start.wait()
            response = APIClient().get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
            results[index] = (response.status_code, response.json().get("id"))
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_concurrent_first_requests_create_one_user(monkeypatch):
    """Both requests miss the lookup before either creates: the database decides."""
    original = User.objects.get_or_create
    both_missed = threading.Barrier(2, timeout=30)
    calls = []

    def get_or_create_after_both_missed(*args, **kwargs):
        calls.append(threading.get_ident())
        both_missed.wait()
        return original(*args, **kwargs)

    monkeypatch.setattr(User.objects, "get_or_create", get_or_create_after_both_missed)

    results = _concurrent_first_requests("user_2racer", 2)

    assert len(calls) == 2  # the race really happened: both took the create path
    assert [status for status, _ in results] == [200, 200]
    ids = {user_id for _, user_id in results}
    assert len(ids) == 1
    assert User.objects.filter(clerk_user_id="user_2racer").count() == 1
    assert str(User.objects.get(clerk_user_id="user_2racer").id) in ids


def test_many_concurrent_first_requests_create_one_user():
    results = _concurrent_first_requests("user_2crowd", 8)

    assert [status for status, _ in results] == [200] * 8
    assert len({user_id for _, user_id in results}) == 1
    assert User.objects.filter(clerk_user_id="user_2crowd").count() == 1
