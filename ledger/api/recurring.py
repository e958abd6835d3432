"""`/recurring`: the user's recurring rules, and `POST /recurring/{id}/generate`.

Views are thin: the input serializer converts the SPA's shapes, the services
(`ledger.services.recurring.rules`, `.engine`) validate and write, and one output serializer
(`RecurringSerializer`) renders a rule in every answer.
"""

import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from household_ledger.api.exceptions import error_body
from household_ledger.api.preconditions import (
    IF_NONE_MATCH_PARAMETER,
    NOT_MODIFIED,
    RevisionETagMixin,
)
from household_ledger.api.rows import RowSerializer
from household_ledger.api.schema import NOT_FOUND, error_response
from ledger.api.fields import DayOfMonthField, MoneyField, MonthOrDateField, RowReferenceField
from ledger.api.idempotency import IdempotentWriteMixin
from ledger.api.scope import LedgerScopedMixin
from ledger.api.transactions import (
    CREATED_BY_KEYS,
    TRANSACTION_FIELDS,
    CreatedBySerializer,
    TransactionSerializer,
    created_by_of,
)
from ledger.dates import add_months, local_today, month_end
from ledger.models import Category, Frequency, TransactionType
from ledger.selectors.categories import category_list
from ledger.selectors.recurring import recurring_list, recurring_rows
from ledger.selectors.transactions import transaction_list, transaction_rows
from ledger.services.recurring.engine import recurring_materialize
from ledger.services.recurring.rules import recurring_create, recurring_delete, recurring_update

# How far ahead `generate?through=` may reach, so one request cannot write unbounded rows.
GENERATE_MAX_MONTHS_AHEAD = 36


# --- Serializers ----------------------------------------------------------------------------


class RecurringInputSerializer(serializers.Serializer):
    """A rule as the SPA sends it (`YYYY-MM` months, `day_of_month` possibly a string), turned
    into Python values. The rules a rule must satisfy are the service's (`recurring_validate`),
    which answers 400 naming the field."""

    template_name = serializers.CharField(max_length=200)
    description = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )
    amount = MoneyField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Positive amount; null only when is_variable_amount is true.",
    )
    type = serializers.ChoiceField(choices=TransactionType.choices)
    category = RowReferenceField(
        queryset=Category.objects.none(),
        pk_field=serializers.UUIDField(),
        required=False,
        allow_null=True,
        default=None,
        error_messages={"does_not_exist": "Unknown category."},
        help_text="Id of a default category or one of your own; null for uncategorized.",
    )
    frequency = serializers.ChoiceField(choices=Frequency.choices, default=Frequency.MONTHLY)
    start_date = MonthOrDateField(
        help_text="YYYY-MM (the first of that month) or YYYY-MM-DD, 1900-01 … 2100-12."
    )
    end_date = MonthOrDateField(
        end=True,
        required=False,
        allow_null=True,
        default=None,
        help_text="YYYY-MM (the whole of that month) or YYYY-MM-DD, at most 2100-12-31; "
        "null = open-ended.",
    )
    day_of_month = DayOfMonthField(help_text="1–31; beyond a month's length it clamps.")
    is_active = serializers.BooleanField(default=True)
    is_variable_amount = serializers.BooleanField(default=False)

    def __init__(self, *args, ledger=None, **kwargs):
        super().__init__(*args, **kwargs)
        if ledger is not None:
            self.fields["category"].queryset = category_list(ledger=ledger)


class RecurringSerializer(RowSerializer):
    """A rule as every answer shows it (list, detail, create, update); the category's name
    and emoji are inline. Renders the dict rows of `row_keys()`."""

    id = serializers.UUIDField()
    template_name = serializers.CharField()
    description = serializers.CharField()
    amount = serializers.DecimalField(
        max_digits=15,
        decimal_places=2,
        coerce_to_string=False,
        allow_null=True,
        help_text="A JSON number; null for a variable amount without an estimate.",
    )
    type = serializers.ChoiceField(choices=TransactionType.choices)
    category = serializers.UUIDField(source="category_id", allow_null=True)
    category_name = serializers.CharField(source="category.name", allow_null=True)
    category_emoji = serializers.CharField(source="category.emoji", allow_null=True)
    frequency = serializers.ChoiceField(choices=Frequency.choices)
    start_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True, help_text="null = open-ended")
    day_of_month = serializers.IntegerField(min_value=1, max_value=31)
    is_active = serializers.BooleanField()
    is_variable_amount = serializers.BooleanField()
    created_by = serializers.SerializerMethodField(
        help_text="Who set the rule up: `{id, email}`; null when unknown."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    method_keys = CREATED_BY_KEYS

    @extend_schema_field(CreatedBySerializer(allow_null=True))
    def get_created_by(self, row) -> dict | None:
        return created_by_of(row)


RECURRING_FIELDS = RecurringSerializer.row_keys()


class GenerateQuerySerializer(serializers.Serializer):
    through = MonthOrDateField(end=True, required=False, default=None, allow_null=True)

    def validate_through(self, value):
        if value is None:
            return month_end(local_today())
        limit = month_end(add_months(local_today(), GENERATE_MAX_MONTHS_AHEAD))
        if value > limit:
            raise serializers.ValidationError(
                f"At most {GENERATE_MAX_MONTHS_AHEAD} months ahead (through {limit:%Y-%m})."
            )
        return value


DeleteResponseSerializer = inline_serializer(
    name="RecurringDeleteResponse",
    fields={
        "id": serializers.UUIDField(),
        "removed_scheduled": serializers.IntegerField(
            help_text="scheduled transactions of the rule that were deleted with it"
        ),
    },
)
_RULE_EXAMPLE = {
    "template_name": "월세",
    "description": "월세",
    "amount": 550000,
    "type": "expense",
    "category": "0b0e3a53-6b36-4f0f-9d1c-3b5c2a1c7e11",
    "frequency": "monthly",
    "start_date": "2025-01",
    "end_date": None,
    "day_of_month": 25,
    "is_active": True,
    "is_variable_amount": False,
}
_RULE_OUT_EXAMPLE = {
    "id": "5f1c7a52-2b8e-4d5b-9a53-5d1b1f0a4c21",
    **_RULE_EXAMPLE,
    "category_name": "월세",
    "category_emoji": "🏠",
    "start_date": "2025-01-01",
    "created_by": {"id": "7d3f0c2e-1b4a-4c8d-9e6f-2a1b3c4d5e6f", "email": "minji@example.com"},
    "created_at": "2025-08-02T09:00:00+09:00",
    "updated_at": "2025-08-02T09:00:00+09:00",
}
_INVALID = error_response(
    "Invalid input; `error.fields` names the field.",
    example=error_body(
        "validation_error",
        "end_date: The end must not be before the start.",
        {"end_date": ["The end must not be before the start."]},
    ),
)


# --- Views ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List your recurring rules",
        description="Paginated (`?page=`, `?page_size=`), by template name.",
        parameters=[IF_NONE_MATCH_PARAMETER],
        responses={200: RecurringSerializer(many=True), 304: NOT_MODIFIED},
    ),
    retrieve=extend_schema(
        summary="One recurring rule",
        responses={200: RecurringSerializer, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary="Create a recurring rule",
        description=(
            "Creates the rule and materializes its occurrences from `start_date` through the "
            "horizon (the rest of this month and next): past dates become `confirmed` "
            "transactions, later ones `scheduled`. Variable-amount rules create `scheduled` "
            "occurrences only. `start_date`/`end_date` accept `YYYY-MM` (first / whole month) "
            "or `YYYY-MM-DD`; `day_of_month` a number or numeric string."
        ),
        request=RecurringInputSerializer,
        responses={201: RecurringSerializer, 400: _INVALID},
        examples=[
            OpenApiExample("monthly rent", value=_RULE_EXAMPLE, request_only=True),
            OpenApiExample(
                "variable electricity bill",
                value={
                    **_RULE_EXAMPLE,
                    "template_name": "전기요금",
                    "description": "전기요금",
                    "amount": None,
                    "day_of_month": "10",
                    "is_variable_amount": True,
                },
                request_only=True,
            ),
            OpenApiExample("created", value=_RULE_OUT_EXAMPLE, response_only=True),
        ],
    ),
    update=extend_schema(
        summary="Replace a recurring rule",
        description=(
            "Future `scheduled` occurrences (dated after today) follow the change: dates no "
            "longer in effect are deleted, the others get the new amount, description, type "
            "and category, new dates are materialized. Confirmed transactions never change. "
            "Re-activating a rule does not back-fill the months it was inactive."
        ),
        request=RecurringInputSerializer,
        responses={200: RecurringSerializer, 400: _INVALID, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a recurring rule",
        description="As PUT, with only the fields sent.",
        request=RecurringInputSerializer(partial=True),
        responses={200: RecurringSerializer, 400: _INVALID, 404: NOT_FOUND},
        examples=[
            OpenApiExample("deactivate", value={"is_active": False}, request_only=True),
            OpenApiExample("new amount", value={"amount": 600000}, request_only=True),
        ],
    ),
    destroy=extend_schema(
        summary="Delete a recurring rule",
        description=(
            "Deletes the rule and its `scheduled` transactions in one database transaction. "
            "Confirmed transactions are kept (their `recurring` becomes null). Answers 200 "
            "with how many scheduled transactions were removed."
        ),
        responses={200: DeleteResponseSerializer, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "deleted",
                value={"id": "5f1c7a52-2b8e-4d5b-9a53-5d1b1f0a4c21", "removed_scheduled": 2},
                response_only=True,
            )
        ],
    ),
)
class RecurringViewSet(
    LedgerScopedMixin,
    IdempotentWriteMixin,
    RevisionETagMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = RecurringSerializer
    revision_etag_actions = ("list",)

    def get_queryset(self):
        return recurring_list(ledger=self.ledger)

    def list(self, request):
        page = self.paginate_queryset(recurring_rows(self.get_queryset(), fields=RECURRING_FIELDS))
        return self.get_paginated_response(RecurringSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self._row_response(self.get_object().pk)

    def _row_response(self, pk, status_code=status.HTTP_200_OK) -> Response:
        row = recurring_rows(self.get_queryset().filter(pk=pk), fields=RECURRING_FIELDS).get()
        return Response(RecurringSerializer(row).data, status=status_code)

    def _input(self, *, partial=False) -> dict:
        serializer = RecurringInputSerializer(
            data=self.request.data, partial=partial, ledger=self.request.ledger
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def create(self, request):
        rule = recurring_create(ledger=request.ledger, created_by=request.user, **self._input())
        return self._row_response(rule.pk, status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        rule = self.get_object()
        # A partial body carries only the fields sent (DRF applies no defaults when partial).
        result = recurring_update(rule=rule, data=dict(self._input(partial=partial)))
        return self._row_response(result.rule.pk)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        rule = self.get_object()
        removed = recurring_delete(rule=rule)
        return Response({"id": str(rule.pk), "removed_scheduled": removed})

    @extend_schema(
        summary="Materialize a rule's occurrences now",
        description=(
            "Creates the rule's missing occurrences from its start through `through` (default: "
            "the end of the current month) — the same transactions the nightly engine "
            "creates. Idempotent: a second call creates nothing, and an occurrence the user "
            "deleted is not re-created. Answers 200 with the transactions created now (a bare "
            "array, by date; empty when nothing was missing), in the `/transactions` shape."
        ),
        request=None,
        parameters=[
            OpenApiParameter(
                "through",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                description=(
                    "Last month to materialize, `YYYY-MM` (or a date `YYYY-MM-DD`); at most "
                    f"{GENERATE_MAX_MONTHS_AHEAD} months ahead. Default: this month."
                ),
                examples=[OpenApiExample("through December", value="2025-12")],
            )
        ],
        responses={200: TransactionSerializer(many=True), 400: _INVALID, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "two months created",
                response_only=True,
                value=[
                    {
                        "id": "9a0e1c1e-8a52-4f9c-b7f4-0f3f0f7c2d10",
                        "date": "2025-08-25",
                        "description": "월세",
                        "amount": 550000,
                        "amount_pending": False,
                        "created_by": {
                            "id": "7d3f0c2e-1b4a-4c8d-9e6f-2a1b3c4d5e6f",
                            "email": "minji@example.com",
                        },
                        "type": "expense",
                        "category": "0b0e3a53-6b36-4f0f-9d1c-3b5c2a1c7e11",
                        "category_name": "월세",
                        "category_emoji": "🏠",
                        "status": "scheduled",
                        "recurring": "5f1c7a52-2b8e-4d5b-9a53-5d1b1f0a4c21",
                        "projected": False,
                        "created_at": "2025-08-02T09:00:00+09:00",
                        "updated_at": "2025-08-02T09:00:00+09:00",
                    }
                ],
            )
        ],
    )
    @action(detail=True, methods=["post"], pagination_class=None)  # a bare array
    def generate(self, request, pk=None):
        rule = self.get_object()
        query = GenerateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        through: datetime.date = query.validated_data["through"]
        created = recurring_materialize(rule=rule, through=through)
        rows = transaction_rows(
            transaction_list(ledger=request.ledger)
            .filter(pk__in=[row.pk for row in created])
            .order_by("date"),
            fields=TRANSACTION_FIELDS,
        )
        return Response(TransactionSerializer(rows, many=True).data)
