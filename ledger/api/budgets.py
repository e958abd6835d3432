"""`/budgets/{YYYY-MM}`: the budget in effect for a month; set it from a month on; remove a
month's change. Thin views over `ledger.services.budgets` and `ledger.selectors.budgets`.

`BudgetSerializer` is the one rendering of a budget: these answers and the export's
`budgets` rows (`ledger.services.backup.budgets`).
"""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from household_ledger.api.preconditions import (
    IF_NONE_MATCH_PARAMETER,
    NOT_MODIFIED,
    RevisionETagMixin,
)
from household_ledger.api.rows import RowField, RowSerializer
from household_ledger.api.schema import NOT_FOUND, VALIDATION_ERROR
from ledger.api.fields import MoneyField
from ledger.api.idempotency import IdempotentWriteMixin
from ledger.api.paths import YEAR_MONTH_PARAMETER, parse_month
from ledger.api.scope import LedgerScopedMixin
from ledger.dates import month_label
from ledger.default_categories import DEFAULT_CATEGORIES
from ledger.selectors.budgets import budget_in_effect
from ledger.selectors.categories import category_list
from ledger.services.budgets import UNKNOWN_CATEGORY, budget_delete, budget_set
from ledger.services.categories import MAX_CATEGORIES_PER_USER

# One line per category a user may have: the defaults and their own.
MAX_LINES = len(DEFAULT_CATEGORIES) + MAX_CATEGORIES_PER_USER


@extend_schema_field(
    {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "example": "2025-07", "nullable": True}
)
class MonthLabelField(RowField):
    """A month (its first day) rendered as `YYYY-MM`; null for none."""

    @staticmethod
    def render(value):
        return None if value is None else month_label(value)


# --- input --------------------------------------------------------------------------------------


class UsableCategoryField(serializers.PrimaryKeyRelatedField):
    """A category id the requesting user may use (a default or their own); another user's id
    is as unknown as a random one."""

    def get_queryset(self):
        return category_list(ledger=self.context["ledger"])


class BudgetLineInputSerializer(serializers.Serializer):
    category = UsableCategoryField(
        pk_field=serializers.UUIDField(),
        error_messages={"does_not_exist": UNKNOWN_CATEGORY},
        help_text="An expense category: a default one (not 월급) or one of your own.",
    )
    amount = MoneyField(help_text="The month's budget for the category: > 0.")
    carry_over = serializers.BooleanField(
        default=False,
        help_text="Add what was left (or overspent) of the month before to this month's amount.",
    )


class BudgetInputSerializer(serializers.Serializer):
    total = MoneyField(
        allow_null=True, help_text="The month's overall budget (> 0), or null for none."
    )
    categories = BudgetLineInputSerializer(
        many=True,
        max_length=MAX_LINES,
        help_text="One line per category (each at most once); [] for none.",
    )


def flat_field_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """A nested serializer's errors as the error format's flat `fields`:
    `{"categories": [{}, {"amount": ["…"]}]}` → `{"categories[1].amount": ["…"]}`."""
    if isinstance(detail, dict):
        found = {}
        for key, value in detail.items():
            if key == "non_field_errors" and prefix:
                name = prefix  # a nested serializer's own error is its field's
            elif isinstance(key, int):  # a list's items, by index
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else key
            found.update(flat_field_errors(value, name))
        return found
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        found = {}
        for index, item in enumerate(detail):
            found.update(flat_field_errors(item, f"{prefix}[{index}]"))
        return found
    messages = [str(message) for message in (detail if isinstance(detail, list) else [detail])]
    return {prefix: messages} if messages else {}


# --- output -------------------------------------------------------------------------------------


class BudgetLineSerializer(RowSerializer):
    category = serializers.UUIDField(source="category_id")
    category_name = serializers.CharField()
    category_emoji = serializers.CharField(allow_blank=True)
    amount = serializers.DecimalField(max_digits=15, decimal_places=2)
    carry_over = serializers.BooleanField()


class BudgetSerializer(RowSerializer):
    """A budget: the one in effect for `month`, set in `since`."""

    month = MonthLabelField(help_text="The month asked for (YYYY-MM).")
    since = MonthLabelField(
        help_text="The month whose change is in effect; null when no budget was ever set "
        "for this month or before (then `total` is null and `categories` empty)."
    )
    total = serializers.DecimalField(max_digits=15, decimal_places=2, allow_null=True)
    categories = BudgetLineSerializer(
        many=True, source="lines", help_text="In the categories' order."
    )


_BUDGET_EXAMPLE = OpenApiExample(
    "Set in July, read in September",
    value={
        "month": "2025-09",
        "since": "2025-07",
        "total": 2500000,
        "categories": [
            {
                "category": "9a1d2c3b-4e5f-4a6b-8c7d-1e2f3a4b5c6d",
                "category_name": "식비",
                "category_emoji": "🍽️",
                "amount": 600000,
                "carry_over": True,
            }
        ],
    },
    response_only=True,
)
_INPUT_EXAMPLE = OpenApiExample(
    "A total and one category",
    value={
        "total": 2500000,
        "categories": [
            {
                "category": "9a1d2c3b-4e5f-4a6b-8c7d-1e2f3a4b5c6d",
                "amount": 600000,
                "carry_over": True,
            }
        ],
    },
    request_only=True,
)


def _answer(request, first):
    return Response(BudgetSerializer(budget_in_effect(ledger=request.ledger, month=first)).data)


class BudgetView(LedgerScopedMixin, IdempotentWriteMixin, RevisionETagMixin, APIView):
    @extend_schema(
        tags=["budgets"],
        operation_id="budget_retrieve",
        summary="The budget in effect for a month",
        description="The latest change made for this month or an earlier one (`since`), or an "
        "empty budget (`since` null).",
        parameters=[YEAR_MONTH_PARAMETER, IF_NONE_MATCH_PARAMETER],
        responses={200: BudgetSerializer, 304: NOT_MODIFIED, 400: VALIDATION_ERROR},
        examples=[_BUDGET_EXAMPLE],
    )
    def get(self, request, month):
        return _answer(request, parse_month(month))

    @extend_schema(
        tags=["budgets"],
        operation_id="budget_set",
        summary="Set the budget from a month on",
        description="The whole budget (total and lines) holds from this month until a later "
        "month's change; it replaces a change already made for this month. A category that is "
        "not an expense category you may use (월급, another user's, unknown) is a 400 naming "
        "`categories[i].category`. Answers the budget now in effect for the month.",
        parameters=[YEAR_MONTH_PARAMETER],
        request=BudgetInputSerializer,
        responses={200: BudgetSerializer, 400: VALIDATION_ERROR},
        examples=[_INPUT_EXAMPLE, _BUDGET_EXAMPLE],
    )
    def put(self, request, month):
        first = parse_month(month)
        serializer = BudgetInputSerializer(data=request.data, context={"ledger": request.ledger})
        if not serializer.is_valid():
            raise exceptions.ValidationError(flat_field_errors(serializer.errors))
        budget_set(
            ledger=request.ledger,
            month=first,
            total=serializer.validated_data["total"],
            categories=serializer.validated_data["categories"],
        )
        return _answer(request, first)

    @extend_schema(
        tags=["budgets"],
        operation_id="budget_delete",
        summary="Remove the change made for a month",
        description="The change before it (if any) applies again; answers the budget now in "
        "effect for the month. 404 when no change was made for this month.",
        parameters=[YEAR_MONTH_PARAMETER],
        responses={200: BudgetSerializer, 400: VALIDATION_ERROR, 404: NOT_FOUND},
        examples=[_BUDGET_EXAMPLE],
    )
    def delete(self, request, month):
        first = parse_month(month)
        if not budget_delete(ledger=request.ledger, month=first):
            raise exceptions.NotFound(f"No budget change was made for {month}.")
        return _answer(request, first)
