"""Paginated lists: an exact count of the caller's matching rows, every page reachable."""

from ledger.tests.factories import TransactionFactory


def _ids(data):
    return [row["id"] for row in data["results"]]


def test_count_is_exact_and_every_page_is_reachable(auth_client, user):
    TransactionFactory.create_batch(5, user=user)
    TransactionFactory.create_batch(2)  # someone else's: never counted, never listed
    client = auth_client(user)

    first = client.get("/transactions?page_size=2").json()
    assert list(first) == ["count", "next", "previous", "results"]
    assert first["count"] == 5
    assert first["next"] and first["previous"] is None
    second = client.get("/transactions?page_size=2&page=2").json()
    third = client.get("/transactions?page_size=2&page=3").json()
    assert len(third["results"]) == 1 and third["next"] is None and third["previous"]
    assert len(set(_ids(first) + _ids(second) + _ids(third))) == 5

    assert client.get("/transactions?page_size=2&page=4").status_code == 404
    last = client.get("/transactions?page_size=2&page=last").json()
    assert _ids(last) == _ids(third) and last["count"] == 5


def test_filters_apply_before_counting(auth_client, user):
    TransactionFactory.create_batch(5, user=user, type="expense")
    TransactionFactory.create_batch(2, user=user, type="income")
    data = auth_client(user).get("/transactions?type=income").json()
    assert data["count"] == 2


def test_a_page_that_is_not_a_positive_number_is_a_400_naming_page(auth_client, user):
    client = auth_client(user)
    for page in ("0", "-1", "two", "1.5"):
        response = client.get(f"/transactions?page={page}")
        assert response.status_code == 400, page
        assert list(response.json()["error"]["fields"]) == ["page"]
