"""`GET /stats/budget/{year}/{month}`: the month against the budget in effect for it.

The figures come from `ledger.selectors.budgets.budget_vs_actual`; the output serializers
below render them and are the answer's OpenAPI schema.
"""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from household_ledger.api.preconditions import (
    IF_NONE_MATCH_PARAMETER,
    NOT_MODIFIED,
    RevisionETagMixin,
)
from household_ledger.api.rows import RowSerializer
from ledger.api.budgets import MonthLabelField
from ledger.api.paths import MONTH_MESSAGE, MONTH_PARAMETER, YEAR_PARAMETER, parse_year_month
from ledger.api.scope import LedgerScopedMixin
from ledger.api.stats.outputs import bad_input
from ledger.dates import local_today
from ledger.selectors.budgets import STATUSES, budget_vs_actual
from ledger.selectors.stats import user_time_zone


def _money(**kwargs):
    return serializers.DecimalField(max_digits=20, decimal_places=2, **kwargs)


class BudgetFiguresOutput(RowSerializer):
    budget = _money(allow_null=True, help_text="null for the total when none is set")
    carried = _money(
        help_text="Carried over from the month before: what was left, negative when it was "
        "overspent, over at most the last 12 months; 0 without carry-over (always 0 for the "
        "total)."
    )
    spent = _money(help_text="Confirmed expense of the month.")
    scheduled = _money(
        help_text="Scheduled expense of the month: committed, not spent yet. A pending "
        "variable-amount occurrence counts its rule's last known amount."
    )
    remaining = _money(allow_null=True, help_text="budget + carried − spent − scheduled")
    ratio = serializers.DecimalField(
        max_digits=16,
        decimal_places=4,
        allow_null=True,
        help_text="(spent + scheduled) ÷ (budget + carried); null when that is not positive.",
    )
    status = serializers.ChoiceField(
        choices=STATUSES,
        allow_null=True,
        help_text="`over` when remaining < 0, `warning` from 80 % on, else `ok`.",
    )
    daily_allowance = _money(
        allow_null=True,
        help_text="Current month only: max(remaining, 0) ÷ days left including today, in "
        "whole won rounded down; null for other months.",
    )
    estimated = serializers.BooleanField(
        help_text="True when `scheduled` (or `carried`) includes such an estimate."
    )


class CategoryBudgetOutput(BudgetFiguresOutput):
    category = serializers.UUIDField(source="category_id")
    category_name = serializers.CharField()
    category_emoji = serializers.CharField(allow_blank=True)
    carry_over = serializers.BooleanField()


class UnbudgetedOutput(RowSerializer):
    category = serializers.UUIDField(
        source="category_id", allow_null=True, help_text="null for uncategorized"
    )
    category_name = serializers.CharField(help_text="미분류 for uncategorized")
    category_emoji = serializers.CharField(allow_blank=True)
    spent = _money(help_text="Confirmed expense of the month.")
    scheduled = _money(help_text="Scheduled expense of the month (estimates included).")
    estimated = serializers.BooleanField()


class StatsBudgetOutput(RowSerializer):
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    since = MonthLabelField(help_text="The month whose budget is in effect; null for none.")
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    days_left = serializers.IntegerField(
        allow_null=True, help_text="Days left including today; null unless the current month."
    )
    total = BudgetFiguresOutput(help_text="Every expense of the month against the total.")
    categories = CategoryBudgetOutput(many=True, help_text="The budgeted categories.")
    unbudgeted = UnbudgetedOutput(
        many=True, help_text="Categories with expense and no budget, largest first."
    )


BUDGET_EXAMPLE = OpenApiExample(
    "Mid-July",
    value={
        "year": 2025,
        "month": 7,
        "since": "2025-03",
        "date_from": "2025-07-01",
        "date_to": "2025-07-31",
        "days_left": 17,
        "total": {
            "spent": 1210000,
            "scheduled": 550000,
            "estimated": True,
            "budget": 2500000,
            "carried": 0,
            "remaining": 740000,
            "ratio": 0.704,
            "status": "ok",
            "daily_allowance": 43529,
        },
        "categories": [
            {
                "category": "9a1d2c3b-4e5f-4a6b-8c7d-1e2f3a4b5c6d",
                "category_name": "식비",
                "category_emoji": "🍽️",
                "carry_over": True,
                "spent": 410000,
                "scheduled": 0,
                "estimated": False,
                "budget": 600000,
                "carried": -35000,
                "remaining": 155000,
                "ratio": 0.7257,
                "status": "ok",
                "daily_allowance": 9117,
            }
        ],
        "unbudgeted": [
            {
                "category": None,
                "category_name": "미분류",
                "category_emoji": "",
                "spent": 5400,
                "scheduled": 0,
                "estimated": False,
            }
        ],
    },
    response_only=True,
)


class StatsBudgetView(LedgerScopedMixin, RevisionETagMixin, APIView):
    @extend_schema(
        tags=["stats"],
        summary="A month against its budget: total, each budgeted category, the unbudgeted",
        description="Expense only. `spent` is confirmed, `scheduled` is committed (scheduled "
        "transactions of the month), `remaining` = budget + carried − spent − scheduled.",
        parameters=[YEAR_PARAMETER, MONTH_PARAMETER, IF_NONE_MATCH_PARAMETER],
        responses={
            200: StatsBudgetOutput,
            304: NOT_MODIFIED,
            400: bad_input("month", MONTH_MESSAGE),
        },
        examples=[BUDGET_EXAMPLE],
    )
    def get(self, request, year, month):
        year, month = parse_year_month(year, month)
        figures = budget_vs_actual(
            ledger=request.ledger,
            year=year,
            month=month,
            today=local_today(user_time_zone(request.user)),
        )
        return Response(StatsBudgetOutput(figures).data)
