"""`?member=` on the stats: the household's figures split by who entered them."""

import datetime
from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from ledger.models import LedgerRole
from ledger.tests.factories import TransactionFactory, shared_ledger_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def household():
    minji, junho = UserFactory(), UserFactory()
    ledger = shared_ledger_with(owner=minji, members={junho: LedgerRole.EDITOR})
    july = datetime.date(2025, 7, 10)
    TransactionFactory(ledger=ledger, created_by=minji, date=july, amount=Decimal("12000"))
    TransactionFactory(ledger=ledger, created_by=junho, date=july, amount=Decimal("3000"))
    TransactionFactory(
        ledger=ledger, created_by=junho, date=july, amount=Decimal("2500000"), type="income"
    )
    return ledger, minji, junho


def _get(client, ledger, path, **query):
    response = client.get(f"/ledgers/{ledger.pk}/stats/{path}", query)
    assert response.status_code == 200, response.json()
    return response.json()


PERIOD = {"date_from": "2025-07-01", "date_to": "2025-07-31"}


def test_every_stats_endpoint_counts_only_the_members_rows(auth_client, household):
    ledger, minji, junho = household
    client = auth_client(minji)

    everyone = _get(client, ledger, "summary", **PERIOD)
    hers = _get(client, ledger, "summary", member=str(minji.pk), **PERIOD)
    his = _get(client, ledger, "summary", member=str(junho.pk), **PERIOD)
    assert (everyone["expense"], everyone["income"]) == (15000, 2500000)
    assert (hers["expense"], hers["income"], hers["count"]) == (12000, 0, 1)
    assert (his["expense"], his["income"], his["count"]) == (3000, 2500000, 2)

    monthly = _get(client, ledger, "monthly/2025/7", member=str(junho.pk))
    assert (monthly["expense"], monthly["income"]) == (3000, 2500000)
    assert sum(day["expense"] for day in monthly["days"]) == 3000
    by_category = _get(client, ledger, "category", member=str(minji.pk), **PERIOD)
    assert by_category["expense"] == 12000 and by_category["income"] == 0
    assets = _get(client, ledger, "assets", member=str(minji.pk))
    assert assets["confirmed_expense"] == 12000 and assets["confirmed_income"] == 0
    trend = _get(client, ledger, "trend", member=str(junho.pk), months=120)
    assert sum(month["expense"] for month in trend) == 3000


@pytest.mark.parametrize("who", ["outsider", "not-a-uuid"])
def test_someone_who_is_no_member_is_a_400_naming_member(auth_client, household, who):
    ledger, minji, _ = household
    member = str(UserFactory().pk) if who == "outsider" else who
    response = auth_client(minji).get(f"/ledgers/{ledger.pk}/stats/assets", {"member": member})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["member"]
