"""seed_demo fills PostgreSQL with realistic, valid demo data for the benchmarks."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Min

from accounts.models import User
from ledger.models import RecurringTransaction, Transaction

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_users_rules_and_transactions():
    out = StringIO()
    call_command(
        "seed_demo", users=3, transactions_per_user=40, heavy_user_transactions=200, stdout=out
    )

    per_user = dict(
        User.objects.filter(clerk_user_id__startswith="user_demo_")
        .annotate(n=Count("personal_ledger__transactions"))
        .values_list("clerk_user_id", "n")
    )
    assert per_user == {
        "user_demo_000000": 40,
        "user_demo_000001": 40,
        "user_demo_000002": 40,
        "user_demo_heavy": 200,
    }
    assert (
        RecurringTransaction.objects.filter(
            ledger__personal_for__clerk_user_id="user_demo_heavy"
        ).count()
        == 2
    )
    assert not Transaction.objects.filter(amount__lte=0).exists()
    assert Transaction.objects.filter(category__isnull=False).count() == 320
    assert Transaction.objects.aggregate(first=Min("date"))["first"].year >= 2020
    assert "seeded 4 users, 320 transactions" in out.getvalue()


def test_seed_demo_refuses_to_seed_twice_without_reset():
    call_command("seed_demo", users=1, transactions_per_user=1, stdout=StringIO())
    with pytest.raises(CommandError, match="--reset"):
        call_command("seed_demo", users=1, transactions_per_user=1, stdout=StringIO())
    call_command("seed_demo", users=2, transactions_per_user=1, reset=True, stdout=StringIO())
    assert User.objects.filter(clerk_user_id__startswith="user_demo_").count() == 2
