"""`/stats/*`: read-only statistics. Views validate input and call `ledger.selectors.stats`."""

import datetime
import re

from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger.api.fields import LocalDateField
from ledger.dates import local_today, month_end, month_start
from ledger.models import TransactionStatus, TransactionType
from ledger.selectors.stats import (
    stats_assets,
    stats_by_category,
    stats_monthly,
    stats_summary,
    stats_trend,
    user_time_zone,
)

MAX_PERIOD_YEARS = 10
MAX_TREND_MONTHS = 120
ONE_DAY = datetime.timedelta(days=1)


# --- Input ---------------------------------------------------------------------------------


class _UserTimeZoneMixin:
    """Dates given as ISO instants become dates in the requesting user's time zone."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        time_zone = user_time_zone(request.user) if request else None
        for field in self.fields.values():
            if isinstance(field, LocalDateField):
                field.time_zone = time_zone
        self.time_zone = time_zone


class StatsPeriodInput(_UserTimeZoneMixin, serializers.Serializer):
    date_from = LocalDateField(
        required=False,
        help_text="First day, inclusive (YYYY-MM-DD or an ISO instant, read in the user's "
        "time zone). Give both bounds, or neither for the current month.",
    )
    date_to = LocalDateField(required=False, help_text="Last day, inclusive.")

    def validate(self, attrs):
        date_from, date_to = attrs.get("date_from"), attrs.get("date_to")
        if date_from is None and date_to is None:
            today = local_today(self.time_zone)
            attrs["date_from"], attrs["date_to"] = month_start(today), month_end(today)
            return attrs
        if date_from is None or date_to is None:
            missing = "date_from" if date_from is None else "date_to"
            raise serializers.ValidationError(
                {missing: ["Give date_from and date_to together, or neither for this month."]}
            )
        if date_from > date_to:
            raise serializers.ValidationError({"date_from": ["Must not be after date_to."]})
        if date_to >= _years_later(date_from, MAX_PERIOD_YEARS):
            raise serializers.ValidationError(
                {
                    "date_to": [
                        f"The period may be at most {MAX_PERIOD_YEARS} years "
                        f"(here: until {_years_later(date_from, MAX_PERIOD_YEARS) - ONE_DAY})."
                    ]
                }
            )
        return attrs


def _years_later(day: datetime.date, years: int) -> datetime.date:
    """The same day `years` later (29 February → 1 March); date.max past year 9999."""
    if day.year + years > datetime.MAXYEAR:
        return datetime.date.max
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return datetime.date(day.year + years, 3, 1)


class StatsSummaryInput(StatsPeriodInput):
    status = serializers.ChoiceField(
        choices=TransactionStatus.choices,
        required=False,
        help_text="Only transactions with this status (default: both).",
    )


class StatsCategoryInput(StatsPeriodInput):
    type = serializers.ChoiceField(
        choices=TransactionType.choices,
        required=False,
        help_text="Only income or only expense categories (default: both).",
    )


class StatsMonthInput(serializers.Serializer):
    year = serializers.IntegerField(min_value=1, max_value=9999)
    month = serializers.IntegerField(min_value=1, max_value=12)
    include_projected = serializers.BooleanField(
        default=False,
        help_text="Add the `projected` block: occurrences of active fixed-amount rules not "
        "generated yet (the SPA's 📅 entries).",
    )


class StatsAssetsInput(_UserTimeZoneMixin, serializers.Serializer):
    as_of = LocalDateField(
        required=False,
        help_text="Count transactions dated up to this day, inclusive (default: all time).",
    )


class StatsTrendInput(serializers.Serializer):
    months = serializers.IntegerField(
        min_value=1,
        max_value=MAX_TREND_MONTHS,
        default=12,
        help_text=f"How many months, ending with the current one (1–{MAX_TREND_MONTHS}).",
    )


# --- Output --------------------------------------------------------------------------------


def _money(**kwargs):
    return serializers.DecimalField(max_digits=20, decimal_places=2, **kwargs)


class TotalsOutput(serializers.Serializer):
    income = _money()
    expense = _money()
    net = _money(help_text="income − expense")
    count = serializers.IntegerField(help_text="Transactions counted (pending amounts too).")


class StatsSummaryOutput(TotalsOutput):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    status = serializers.ChoiceField(choices=TransactionStatus.choices, allow_null=True)


class CategoryTotalOutput(serializers.Serializer):
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


class DayTotalOutput(serializers.Serializer):
    date = serializers.DateField()
    income = _money()
    expense = _money()
    count = serializers.IntegerField()


class ProjectedOccurrenceOutput(serializers.Serializer):
    recurring_id = serializers.UUIDField()
    template_name = serializers.CharField()
    date = serializers.DateField()
    type = serializers.ChoiceField(choices=TransactionType.choices)
    amount = _money()
    category_id = serializers.UUIDField(allow_null=True)


class ProjectedOutput(TotalsOutput):
    days = DayTotalOutput(many=True)
    occurrences = ProjectedOccurrenceOutput(many=True)


class StatsMonthlyOutput(TotalsOutput):
    year = serializers.IntegerField()
    month = serializers.IntegerField()
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
        if data.get("projected") is None:
            data.pop("projected", None)
        return data


class StatsCategoryOutput(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    type = serializers.ChoiceField(choices=TransactionType.choices, allow_null=True)
    income = _money()
    expense = _money()
    categories = CategoryTotalOutput(many=True, help_text="Largest total first.")


class StatsAssetsOutput(serializers.Serializer):
    as_of = serializers.DateField(allow_null=True)
    assets = _money(help_text="전체 자산: confirmed income − confirmed expense.")
    confirmed_income = _money()
    confirmed_expense = _money()
    scheduled_income = _money()
    scheduled_expense = _money()
    projected_balance = _money(help_text="assets + scheduled_income − scheduled_expense")


class MonthTotalOutput(TotalsOutput):
    month = serializers.CharField(source="label", help_text="YYYY-MM")


class StatsTrendOutput(serializers.Serializer):
    months = serializers.IntegerField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    items = MonthTotalOutput(many=True, help_text="Oldest month first; empty months are zeros.")


# --- Output, built directly ------------------------------------------------------------------
# The serializers above describe the responses (the OpenAPI schema is generated from them); the
# views build the same JSON directly — the same keys in the same order, money as the same JSON
# numbers (`DecimalField(coerce_to_string=False)` renders a Decimal as a float, so does this),
# dates as ISO strings, ids as strings — because DRF's field-by-field rendering of the nested
# per-day and per-category lists was a large share of these small requests. A test holds each
# function equal to its serializer's rendering.


def _uuid(value) -> str | None:
    return None if value is None else str(value)


def totals_data(totals) -> dict:
    """`TotalsOutput`."""
    return {
        "income": float(totals.income),
        "expense": float(totals.expense),
        "net": float(totals.net),
        "count": totals.count,
    }


def summary_data(summary) -> dict:
    """`StatsSummaryOutput`."""
    return {
        **totals_data(summary),
        "date_from": summary.date_from.isoformat(),
        "date_to": summary.date_to.isoformat(),
        "status": summary.status,
    }


def _category_data(row) -> dict:
    """`CategoryTotalOutput`."""
    return {
        "id": _uuid(row.category_id),
        "name": row.name,
        "emoji": row.emoji,
        "type": row.type,
        "total": float(row.total),
        "count": row.count,
        "share": float(row.share),
    }


def _day_data(day) -> dict:
    """`DayTotalOutput`."""
    return {
        "date": day.date.isoformat(),
        "income": float(day.income),
        "expense": float(day.expense),
        "count": day.count,
    }


def _projected_data(projected) -> dict:
    """`ProjectedOutput`."""
    return {
        **totals_data(projected),
        "days": [_day_data(day) for day in projected.days],
        "occurrences": [
            {
                "recurring_id": _uuid(item.recurring_id),
                "template_name": item.template_name,
                "date": item.date.isoformat(),
                "type": item.type,
                "amount": float(item.amount),
                "category_id": _uuid(item.category_id),
            }
            for item in projected.occurrences
        ],
    }


def monthly_data(monthly) -> dict:
    """`StatsMonthlyOutput`; `projected` only when the month has that block."""
    data = {
        **totals_data(monthly),
        "year": monthly.year,
        "month": monthly.month,
        "date_from": monthly.date_from.isoformat(),
        "date_to": monthly.date_to.isoformat(),
        "confirmed": totals_data(monthly.confirmed),
        "scheduled": totals_data(monthly.scheduled),
        "categories": [_category_data(row) for row in monthly.categories],
        "days": [_day_data(day) for day in monthly.days],
    }
    if monthly.projected is not None:
        data["projected"] = _projected_data(monthly.projected)
    return data


def category_data(by_category) -> dict:
    """`StatsCategoryOutput`."""
    return {
        "date_from": by_category.date_from.isoformat(),
        "date_to": by_category.date_to.isoformat(),
        "type": by_category.type,
        "income": float(by_category.income),
        "expense": float(by_category.expense),
        "categories": [_category_data(row) for row in by_category.categories],
    }


def assets_data(assets) -> dict:
    """`StatsAssetsOutput`."""
    return {
        "as_of": None if assets.as_of is None else assets.as_of.isoformat(),
        "assets": float(assets.assets),
        "confirmed_income": float(assets.confirmed_income),
        "confirmed_expense": float(assets.confirmed_expense),
        "scheduled_income": float(assets.scheduled_income),
        "scheduled_expense": float(assets.scheduled_expense),
        "projected_balance": float(assets.projected_balance),
    }


def trend_data(trend) -> dict:
    """`StatsTrendOutput`."""
    return {
        "months": trend.months,
        "date_from": trend.date_from.isoformat(),
        "date_to": trend.date_to.isoformat(),
        "items": [{**totals_data(item), "month": item.label} for item in trend.items],
    }


# --- Views ---------------------------------------------------------------------------------

_BAD_INPUT = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description="Invalid input; `fields` names the parameter at fault.",
    examples=[
        OpenApiExample(
            "Bad period",
            value={
                "error": {
                    "code": "validation_error",
                    "message": "date_from: Must not be after date_to.",
                    "fields": {"date_from": ["Must not be after date_to."]},
                }
            },
        )
    ],
)


def _validated(serializer_class, data, request):
    serializer = serializer_class(data=data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


_PLAIN_YEAR = re.compile(r"[0-9]{1,4}")
_PLAIN_MONTH = re.compile(r"[0-9]{1,2}")
# The (lower-cased) spellings DRF's BooleanField reads as true or false.
_BOOLEANS = {
    **{v: True for v in serializers.BooleanField.TRUE_VALUES if isinstance(v, str)},
    **{v: False for v in serializers.BooleanField.FALSE_VALUES if isinstance(v, str)},
}


def _month_params(request, year: str, month: str) -> dict:
    """`StatsMonthInput`'s validated data for the path's year and month and the query.

    The usual input — ASCII digits in range, `include_projected` absent or one of the
    spellings DRF's BooleanField knows — is read here directly; anything else (and so every
    error) goes through `StatsMonthInput`, which gives the same values and the same 400s.
    """
    raw = request.query_params.get("include_projected")
    include_projected = False if raw is None else _BOOLEANS.get(raw.lower())
    if (
        include_projected is not None
        and _PLAIN_YEAR.fullmatch(year)
        and _PLAIN_MONTH.fullmatch(month)
        and int(year) >= 1
        and 1 <= int(month) <= 12
    ):
        return {"year": int(year), "month": int(month), "include_projected": include_projected}
    data = QueryDict(mutable=True)
    data.update(request.query_params)
    data["year"], data["month"] = year, month
    return _validated(StatsMonthInput, data, request)


class StatsSummaryView(APIView):
    @extend_schema(
        tags=["stats"],
        summary="Income, expense and net over a period",
        parameters=[StatsSummaryInput],
        responses={200: StatsSummaryOutput, 400: _BAD_INPUT},
        examples=[
            OpenApiExample(
                "July 2025",
                response_only=True,
                value={
                    "income": 2031940,
                    "expense": 812300,
                    "net": 1219640,
                    "count": 42,
                    "date_from": "2025-07-01",
                    "date_to": "2025-07-31",
                    "status": None,
                },
            )
        ],
    )
    def get(self, request):
        params = _validated(StatsSummaryInput, request.query_params, request)
        summary = stats_summary(
            user=request.user,
            date_from=params["date_from"],
            date_to=params["date_to"],
            status=params.get("status"),
        )
        return Response(summary_data(summary))


class StatsMonthlyView(APIView):
    @extend_schema(
        tags=["stats"],
        summary="One calendar month: totals, per category, per day",
        description="Totals count scheduled transactions too (the SPA's 수입/지출 cards); "
        "`confirmed` and `scheduled` split them. `days` lists every day with transactions.",
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT, OpenApiParameter.PATH),
            OpenApiParameter("month", OpenApiTypes.INT, OpenApiParameter.PATH, description="1–12"),
            OpenApiParameter(
                "include_projected",
                OpenApiTypes.BOOL,
                OpenApiParameter.QUERY,
                description=StatsMonthInput().fields["include_projected"].help_text,
            ),
        ],
        responses={200: StatsMonthlyOutput, 400: _BAD_INPUT},
        examples=[
            OpenApiExample(
                "A month",
                response_only=True,
                value={
                    "income": 2031940,
                    "expense": 605400,
                    "net": 1426540,
                    "count": 3,
                    "year": 2025,
                    "month": 7,
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
        ],
    )
    def get(self, request, year, month):
        params = _month_params(request, year, month)
        monthly = stats_monthly(
            user=request.user,
            year=params["year"],
            month=params["month"],
            include_projected=params["include_projected"],
        )
        return Response(monthly_data(monthly))


class StatsCategoryView(APIView):
    @extend_schema(
        tags=["stats"],
        summary="Totals per category over a period",
        description="Largest total first; uncategorized transactions form their own row "
        "(`id` null). Scheduled transactions count too.",
        parameters=[StatsCategoryInput],
        responses={200: StatsCategoryOutput, 400: _BAD_INPUT},
        examples=[
            OpenApiExample(
                "Expenses of July",
                response_only=True,
                value={
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
        ],
    )
    def get(self, request):
        params = _validated(StatsCategoryInput, request.query_params, request)
        by_category = stats_by_category(
            user=request.user,
            date_from=params["date_from"],
            date_to=params["date_to"],
            type=params.get("type"),
        )
        return Response(category_data(by_category))


class StatsAssetsView(APIView):
    @extend_schema(
        tags=["stats"],
        summary="Total assets (confirmed only) and the balance after scheduled transactions",
        parameters=[StatsAssetsInput],
        responses={200: StatsAssetsOutput, 400: _BAD_INPUT},
        examples=[
            OpenApiExample(
                "All time",
                response_only=True,
                value={
                    "as_of": None,
                    "assets": 1426540,
                    "confirmed_income": 2031940,
                    "confirmed_expense": 605400,
                    "scheduled_income": 0,
                    "scheduled_expense": 55000,
                    "projected_balance": 1371540,
                },
            )
        ],
    )
    def get(self, request):
        params = _validated(StatsAssetsInput, request.query_params, request)
        return Response(assets_data(stats_assets(user=request.user, as_of=params.get("as_of"))))


class StatsTrendView(APIView):
    @extend_schema(
        tags=["stats"],
        summary="Income and expense per month for the last N months",
        parameters=[StatsTrendInput],
        responses={200: StatsTrendOutput, 400: _BAD_INPUT},
        examples=[
            OpenApiExample(
                "Two months",
                response_only=True,
                value={
                    "months": 2,
                    "date_from": "2025-07-01",
                    "date_to": "2025-08-31",
                    "items": [
                        {
                            "month": "2025-07",
                            "income": 2031940,
                            "expense": 605400,
                            "net": 1426540,
                            "count": 3,
                        },
                        {"month": "2025-08", "income": 0, "expense": 0, "net": 0, "count": 0},
                    ],
                },
            )
        ],
    )
    def get(self, request):
        params = _validated(StatsTrendInput, request.query_params, request)
        trend = stats_trend(user=request.user, months=params["months"])
        return Response(trend_data(trend))


__all__ = [
    "StatsAssetsView",
    "StatsCategoryView",
    "StatsMonthlyView",
    "StatsSummaryView",
    "StatsTrendView",
]
