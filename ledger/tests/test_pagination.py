"""Paginated lists count exactly up to API_EXACT_COUNT_LIMIT rows, estimate above it."""

from ledger.tests.factories import TransactionFactory


def _ids(data):
    return [row["id"] for row in data["results"]]


def test_count_is_exact_up_to_the_limit(auth_client, user, settings):
    settings.API_EXACT_COUNT_LIMIT = 5
    TransactionFactory.create_batch(5, user=user)
    data = auth_client(user).get("/transactions?page_size=2").json()
    assert data["count"] == 5 and data["count_exact"] is True
    assert list(data) == ["count", "count_exact", "next", "previous", "results"]


def test_above_the_limit_count_is_an_estimate_and_every_page_is_reachable(
    auth_client, user, settings
):
    settings.API_EXACT_COUNT_LIMIT = 3
    TransactionFactory.create_batch(5, user=user)
    TransactionFactory.create_batch(2)  # someone else's: never counted, never listed
    client = auth_client(user)

    first = client.get("/transactions?page_size=2").json()
    assert first["count_exact"] is False and first["count"] >= 4
    assert first["next"] and first["previous"] is None
    second = client.get("/transactions?page_size=2&page=2").json()
    third = client.get("/transactions?page_size=2&page=3").json()
    assert len(third["results"]) == 1 and third["next"] is None and third["previous"]
    assert len(set(_ids(first) + _ids(second) + _ids(third))) == 5

    past_the_end = client.get("/transactions?page_size=2&page=4")
    assert past_the_end.status_code == 404

    # `last` is the real last page, whatever the estimate
    last = client.get("/transactions?page_size=2&page=last").json()
    assert _ids(last) == _ids(third) and last["count"] == 5 and last["count_exact"] is True


def test_filters_apply_before_counting(auth_client, user, settings):
    settings.API_EXACT_COUNT_LIMIT = 3
    TransactionFactory.create_batch(5, user=user, type="expense")
    TransactionFactory.create_batch(2, user=user, type="income")
    data = auth_client(user).get("/transactions?type=income").json()
    assert data["count"] == 2 and data["count_exact"] is True
