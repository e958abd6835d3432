"""Query parameters of `/stats/*`: validated and converted, no business rules.

Dates are `LocalDateField`s (`ledger.dates.parse_local_date`: `YYYY-MM-DD` or an ISO instant
read in the user's time zone, within the product's date range). The path's year and month
are read by `ledger.api.paths`.
"""

import datetime

from rest_framework import serializers

from ledger.api.fields import LocalDateField
from ledger.dates import local_today, month_end, month_start
from ledger.models import TransactionStatus, TransactionType
from ledger.selectors.ledgers import ledger_has_member
from ledger.selectors.stats import user_time_zone

MAX_PERIOD_YEARS = 10
MAX_TREND_MONTHS = 120


class _UserTimeZoneMixin:
    """Dates given as ISO instants become dates in the requesting user's time zone."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        self.time_zone = user_time_zone(request.user) if request else None
        for field in self.fields.values():
            if isinstance(field, LocalDateField):
                field.time_zone = self.time_zone


NOT_A_MEMBER = "Not a member of this ledger."


class _MemberInput(serializers.Serializer):
    """`?member=<user id>`: count only what that member of the ledger entered."""

    member = serializers.UUIDField(
        required=False,
        help_text="Only the transactions this member of the ledger entered (`created_by`); "
        "default: everyone's.",
    )

    def validate_member(self, value):
        request = self.context.get("request")
        if request is None or not ledger_has_member(ledger=request.ledger, user_id=value):
            raise serializers.ValidationError(NOT_A_MEMBER)
        return value


class StatsPeriodInput(_UserTimeZoneMixin, _MemberInput):
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
        limit = _years_later(date_from, MAX_PERIOD_YEARS)
        if date_to >= limit:
            raise serializers.ValidationError(
                {
                    "date_to": [
                        f"The period may be at most {MAX_PERIOD_YEARS} years "
                        f"(here: until {limit - datetime.timedelta(days=1)})."
                    ]
                }
            )
        return attrs


def _years_later(day: datetime.date, years: int) -> datetime.date:
    """The same day `years` later (29 February → 1 March). Dates are within 1900–2100, so
    this cannot leave `datetime.date`'s range."""
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


class StatsMonthlyInput(_MemberInput):
    include_projected = serializers.BooleanField(
        default=False,
        help_text="Add the `projected` block: occurrences of active fixed-amount rules not "
        "generated yet (the SPA's 📅 entries).",
    )


class StatsAssetsInput(_UserTimeZoneMixin, _MemberInput):
    as_of = LocalDateField(
        required=False,
        help_text="Count transactions dated up to this day, inclusive (default: all time).",
    )


class StatsTrendInput(_MemberInput):
    months = serializers.IntegerField(
        min_value=1,
        max_value=MAX_TREND_MONTHS,
        default=12,
        help_text=f"How many months, ending with the current one (1–{MAX_TREND_MONTHS}).",
    )


BLANK_MESSAGE = "Give a value, or leave the parameter out."


def validated(serializer_class, request) -> dict:
    """The request's query parameters, validated by `serializer_class` (400 naming a field)."""
    blank = {name: [BLANK_MESSAGE] for name, value in request.query_params.items() if value == ""}
    if blank:  # `?status=` is not "any status": a client bug, said so
        raise serializers.ValidationError(blank)
    serializer = serializer_class(data=request.query_params, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
