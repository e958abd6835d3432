"""Budgets in the admin: support and superusers see them, nobody changes them there."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.admin_support import count_queries
from accounts.tests.factories import UserFactory
from ledger.models import Budget, Category
from ledger.services.budgets import budget_set
from ledger.services.ledgers import personal_ledger
from ledger.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:ledger_budget_changelist"


def seed(count: int, *, email=None) -> list[Budget]:
    """`count` users, each with a change of two lines (a default and an own category)."""
    food = Category.objects.get(ledger=None, name="식비")
    made = []
    for _ in range(count):
        owner = UserFactory(**({"email": email} if email else {}))
        own = CategoryFactory(user=owner, name="반려동물", emoji="🐶")
        made.append(
            budget_set(
                ledger=personal_ledger(user=owner),
                month=datetime.date(2025, 3, 1),
                total=Decimal("2500000"),
                categories=[
                    {"category": food, "amount": Decimal("600000"), "carry_over": True},
                    {"category": own, "amount": Decimal("80000"), "carry_over": False},
                ],
            )
        )
    return made


def test_staff_see_the_list_and_a_change_with_its_lines(staff_client):
    [budget] = seed(1, email="hong@example.com")

    listing = staff_client.get(reverse(CHANGELIST), {"q": "hong@example.com"})
    detail = staff_client.get(reverse("admin:ledger_budget_change", args=[budget.pk]))

    assert listing.status_code == 200
    assert "2025-03" in listing.text and "₩2,500,000" in listing.text
    assert detail.status_code == 200
    assert "₩600,000" in detail.text and "반려동물" in detail.text


def test_nobody_adds_changes_or_deletes_a_budget_in_the_admin(superuser_client):
    [budget] = seed(1)

    assert superuser_client.get(reverse("admin:ledger_budget_add")).status_code == 403
    change = reverse("admin:ledger_budget_change", args=[budget.pk])
    assert superuser_client.post(change, {"total": "1"}).status_code == 403
    delete = reverse("admin:ledger_budget_delete", args=[budget.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403

    budget.refresh_from_db()
    assert budget.total == Decimal("2500000")
    assert budget.lines.count() == 2


def test_the_list_costs_the_same_queries_for_10_or_100_budgets(superuser_client, support_client):
    seed(10)
    at_10 = [count_queries(c, reverse(CHANGELIST)) for c in (superuser_client, support_client)]
    seed(90)
    at_100 = [count_queries(c, reverse(CHANGELIST)) for c in (superuser_client, support_client)]

    assert at_100 == at_10
