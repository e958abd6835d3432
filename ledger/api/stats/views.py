"""`/stats/*` views: validate the input, call a selector, render its result."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from household_ledger.api.preconditions import RevisionETagMixin
from ledger.api.paths import MONTH_MESSAGE, MONTH_PARAMETER, YEAR_PARAMETER, parse_year_month
from ledger.api.scope import LedgerScopedMixin
from ledger.api.stats import inputs, outputs
from ledger.dates import DATE_RANGE_MESSAGE
from ledger.selectors.stats import (
    stats_assets,
    stats_by_category,
    stats_monthly,
    stats_summary,
    stats_trend,
)

_PERIOD_ERROR = outputs.bad_input("date_from", "Must not be after date_to.")


class StatsSummaryView(LedgerScopedMixin, RevisionETagMixin, APIView):
    @extend_schema(
        tags=["stats"],
        summary="Income, expense and net over a period",
        parameters=[inputs.StatsSummaryInput],
        responses={200: outputs.StatsSummaryOutput, 400: _PERIOD_ERROR},
        examples=[outputs.SUMMARY_EXAMPLE],
    )
    def get(self, request):
        params = inputs.validated(inputs.StatsSummaryInput, request)
        summary = stats_summary(
            ledger=request.ledger,
            date_from=params["date_from"],
            date_to=params["date_to"],
            status=params.get("status"),
            member=params.get("member"),
        )
        return Response(outputs.StatsSummaryOutput(summary).data)


class StatsMonthlyView(LedgerScopedMixin, RevisionETagMixin, APIView):
    @extend_schema(
        tags=["stats"],
        summary="One calendar month: totals, per category, per day",
        description="Totals count scheduled transactions too (the SPA's 수입/지출 cards); "
        "`confirmed` and `scheduled` split them. `days` lists every day with transactions.",
        parameters=[YEAR_PARAMETER, MONTH_PARAMETER, inputs.StatsMonthlyInput],
        responses={
            200: outputs.StatsMonthlyOutput,
            400: outputs.bad_input("month", MONTH_MESSAGE),
        },
        examples=[outputs.MONTHLY_EXAMPLE],
    )
    def get(self, request, year, month):
        year, month = parse_year_month(year, month)
        params = inputs.validated(inputs.StatsMonthlyInput, request)
        monthly = stats_monthly(
            ledger=request.ledger,
            year=year,
            month=month,
            include_projected=params["include_projected"],
            member=params.get("member"),
        )
        return Response(outputs.StatsMonthlyOutput(monthly).data)


class StatsCategoryView(LedgerScopedMixin, RevisionETagMixin, APIView):
    @extend_schema(
        tags=["stats"],
        summary="Totals per category over a period",
        description="Largest total first; uncategorized transactions form their own row "
        "(`id` null). Scheduled transactions count too.",
        parameters=[inputs.StatsCategoryInput],
        responses={200: outputs.StatsCategoryOutput, 400: _PERIOD_ERROR},
        examples=[outputs.CATEGORY_EXAMPLE],
    )
    def get(self, request):
        params = inputs.validated(inputs.StatsCategoryInput, request)
        by_category = stats_by_category(
            ledger=request.ledger,
            date_from=params["date_from"],
            date_to=params["date_to"],
            type=params.get("type"),
            member=params.get("member"),
        )
        return Response(outputs.StatsCategoryOutput(by_category).data)


class StatsAssetsView(LedgerScopedMixin, RevisionETagMixin, APIView):
    @extend_schema(
        tags=["stats"],
        summary="Total assets (confirmed only) and the balance after scheduled transactions",
        parameters=[inputs.StatsAssetsInput],
        responses={
            200: outputs.StatsAssetsOutput,
            400: outputs.bad_input("as_of", DATE_RANGE_MESSAGE),
        },
        examples=[outputs.ASSETS_EXAMPLE],
    )
    def get(self, request):
        params = inputs.validated(inputs.StatsAssetsInput, request)
        assets = stats_assets(
            ledger=request.ledger, as_of=params.get("as_of"), member=params.get("member")
        )
        return Response(outputs.StatsAssetsOutput(assets).data)


class StatsTrendView(LedgerScopedMixin, RevisionETagMixin, APIView):
    @extend_schema(
        tags=["stats"],
        summary="Income and expense per month for the last N months",
        description="Oldest month first, ending with this month; empty months are zeros.",
        parameters=[inputs.StatsTrendInput],
        responses={
            200: outputs.MonthTotalOutput(many=True),
            400: outputs.bad_input(
                "months", f"Ensure this value is less than or equal to {inputs.MAX_TREND_MONTHS}."
            ),
        },
        examples=[outputs.TREND_EXAMPLE],
    )
    def get(self, request):
        params = inputs.validated(inputs.StatsTrendInput, request)
        trend = stats_trend(
            ledger=request.ledger, months=params["months"], member=params.get("member")
        )
        return Response(outputs.MonthTotalOutput(trend.items, many=True).data)
