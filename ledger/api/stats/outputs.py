"""What `/stats/*` answers: one output serializer per answer, rendering the selectors' results
(`ledger.selectors.stats`) and giving the OpenAPI schema; plus an example of each answer.

Money is a JSON number (`COERCE_DECIMAL_TO_STRING` is off), dates are ISO strings. The
serializers are `RowSerializer`s: they render the selectors' result objects field by field,
nested ones included, without DRF's per-answer field copies.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema_field
from rest_framework import serializers

from household_ledger.api.rows import RowField, RowSerializer
from household_ledger.api.schema import ErrorSerializer
from ledger.dates import month_label
from ledger.models import TransactionStatus, TransactionType


def _money(**kwargs):
    return serializers.DecimalField(max_digits=20, decimal_places=2, **kwargs)


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2025-07"})
class MonthField(RowField):
    """A month is spelled `YYYY-MM` in every answer (stats, trend, budgets): the row's own
    `year` and `month`."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    @staticmethod
    def render(value):
        return month_label(value)


class TotalsOutput(RowSerializer):
    income = _money()
    expense = _money()
    net = _money(help_text="income − expense")
    count = serializers.IntegerField(help_text="Transactions counted (pending amounts too).")


class StatsSummaryOutput(TotalsOutput):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    status = serializers.ChoiceField(choices=TransactionStatus.choices, allow_null=True)


class CategoryTotalOutput(RowSerializer):
    id = serializers.UUIDField(
        source="category_id", allow_null=True, help_text="null for uncategorized"
    )
    name = serializers.CharField(help_text="미분류 for uncategorized")
    emoji = serializers.CharField(allow_blank=True)
    type = serializers.ChoiceField(choices=TransactionType.choices)
    total = _money()
    count = serializers.IntegerField()
    share = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        help_text="Fraction of the period's income (income rows) or expense (expense rows).",
    )


class DayTotalOutput(RowSerializer):
    date = serializers.DateField()
    income = _money()
    expense = _money()
    count = serializers.IntegerField()


class ProjectedOccurrenceOutput(RowSerializer):
    recurring = serializers.UUIDField(source="recurring_id")
    template_name = serializers.CharField()
    date = serializers.DateField()
    type = serializers.ChoiceField(choices=TransactionType.choices)
    amount = _money()
    category = serializers.UUIDField(source="category_id", allow_null=True)


class ProjectedOutput(TotalsOutput):
    days = DayTotalOutput(many=True)
    occurrences = ProjectedOccurrenceOutput(many=True)


class StatsMonthlyOutput(TotalsOutput):
    month = MonthField(help_text="YYYY-MM")
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    confirmed = TotalsOutput()
    scheduled = TotalsOutput()
    categories = CategoryTotalOutput(many=True)
    days = DayTotalOutput(many=True, help_text="Every day of the month with transactions.")
    projected = ProjectedOutput(
        required=False, help_text="Only with ?include_projected=true; not part of the totals."
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data["projected"] is None:  # not asked for: the key is absent, not null
            del data["projected"]
        return data


class StatsCategoryOutput(RowSerializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    type = serializers.ChoiceField(choices=TransactionType.choices, allow_null=True)
    income = _money()
    expense = _money()
    categories = CategoryTotalOutput(many=True, help_text="Largest total first.")


class StatsAssetsOutput(RowSerializer):
    as_of = serializers.DateField(allow_null=True)
    assets = _money(help_text="전체 자산: confirmed income − confirmed expense.")
    confirmed_income = _money()
    confirmed_expense = _money()
    scheduled_income = _money()
    scheduled_expense = _money()
    projected_balance = _money(help_text="assets + scheduled_income − scheduled_expense")


class MonthTotalOutput(TotalsOutput):
    month = MonthField(help_text="YYYY-MM")


# --- Examples ----------------------------------------------------------------------------------


def bad_input(field: str, message: str) -> OpenApiResponse:
    """The 400 answer, with an example naming one of the endpoint's own parameters."""
    example = {
        "error": {
            "code": "validation_error",
            "message": f"{field}: {message}",
            "fields": {field: [message]},
        }
    }
    return OpenApiResponse(
        ErrorSerializer,
        description="Invalid input; `fields` names the parameter at fault.",
        examples=[OpenApiExample(f"Bad {field}", value=example, response_only=True)],
    )


def _example(name: str, value: dict) -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True)


SUMMARY_EXAMPLE = _example(
    "July 2025",
    {
        "income": 2031940,
        "expense": 812300,
        "net": 1219640,
        "count": 42,
        "date_from": "2025-07-01",
        "date_to": "2025-07-31",
        "status": None,
    },
)

MONTHLY_EXAMPLE = _example(
    "A month",
    {
        "income": 2031940,
        "expense": 605400,
        "net": 1426540,
        "count": 3,
        "month": "2025-07",
        "date_from": "2025-07-01",
        "date_to": "2025-07-31",
        "confirmed": {"income": 2031940, "expense": 5400, "net": 2026540, "count": 2},
        "scheduled": {"income": 0, "expense": 600000, "net": -600000, "count": 1},
        "categories": [
            {
                "id": "3f0c8e6e-2b7a-4d0e-9c1a-0a4b6f1d2e3c",
                "name": "월급",
                "emoji": "💰",
                "type": "income",
                "total": 2031940,
                "count": 1,
                "share": 1.0,
            },
            {
                "id": "9a1d2c3b-4e5f-4a6b-8c7d-1e2f3a4b5c6d",
                "name": "월세",
                "emoji": "🏠",
                "type": "expense",
                "total": 600000,
                "count": 1,
                "share": 0.9911,
            },
            {
                "id": None,
                "name": "미분류",
                "emoji": "",
                "type": "expense",
                "total": 5400,
                "count": 1,
                "share": 0.0089,
            },
        ],
        "days": [
            {"date": "2025-07-25", "income": 0, "expense": 5400, "count": 1},
            {"date": "2025-07-30", "income": 2031940, "expense": 600000, "count": 2},
        ],
    },
)

CATEGORY_EXAMPLE = _example(
    "Expenses of July",
    {
        "date_from": "2025-07-01",
        "date_to": "2025-07-31",
        "type": "expense",
        "income": 0,
        "expense": 36400,
        "categories": [
            {
                "id": "9a1d2c3b-4e5f-4a6b-8c7d-1e2f3a4b5c6d",
                "name": "식비",
                "emoji": "🍽️",
                "type": "expense",
                "total": 31000,
                "count": 1,
                "share": 0.8516,
            },
            {
                "id": None,
                "name": "미분류",
                "emoji": "",
                "type": "expense",
                "total": 5400,
                "count": 1,
                "share": 0.1484,
            },
        ],
    },
)

ASSETS_EXAMPLE = _example(
    "All time",
    {
        "as_of": None,
        "assets": 1426540,
        "confirmed_income": 2031940,
        "confirmed_expense": 605400,
        "scheduled_income": 0,
        "scheduled_expense": 55000,
        "projected_balance": 1371540,
    },
)

TREND_EXAMPLE = _example(
    "Two months",
    [
        {"income": 2031940, "expense": 605400, "net": 1426540, "count": 3, "month": "2025-07"},
        {"income": 0, "expense": 0, "net": 0, "count": 0, "month": "2025-08"},
    ],
)
