"""`/recurring`: the user's recurring rules, and `POST /recurring/{id}/generate`.

Views are thin: input serializers validate and convert the SPA's shapes, the recurring engine
(`ledger.services.recurring`) does every write, output serializers decide what the client sees.
"""

import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from household_ledger.api.exceptions import error_body
from ledger.api.fields import DayOfMonthField, MoneyField, MonthOrDateField
from ledger.api.transactions import TRANSACTION_FIELDS, TransactionSerializer
from ledger.dates import add_months, local_today, month_end
from ledger.models import (
    Category,
    Frequency,
    RecurringTransaction,
    TransactionType,
)
from ledger.selectors.transactions import transaction_list, transaction_rows
from ledger.services.recurring.engine import recurring_materialize
from ledger.services.recurring.rules import recurring_create, recurring_delete, recurring_update

# How far ahead `generate?through=` may reach, so one request cannot write unbounded rows.
GENERATE_MAX_MONTHS_AHEAD = 36


# --- Serializers ----------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.UUID)
class _OwnCategoryField(serializers.PrimaryKeyRelatedField):
    """A category id: a default category or one of the requesting user's own."""

    default_error_messages = {
        "does_not_exist": "Unknown category.",
        "incorrect_type": "Enter a category id.",
    }

    def get_queryset(self):
        user = self.context["request"].user
        return Category.objects.filter(Q(user__isnull=True) | Q(user=user))

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except DjangoValidationError:  # a malformed UUID is an unknown category, not a 500
            self.fail("does_not_exist", pk_value=data)


class RecurringInputSerializer(serializers.Serializer):
    """A rule as the SPA sends it: `YYYY-MM` months, `day_of_month` possibly a string."""

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
    category = _OwnCategoryField(required=False, allow_null=True, default=None)
    frequency = serializers.ChoiceField(choices=Frequency.choices, default=Frequency.MONTHLY)
    start_date = MonthOrDateField(help_text="YYYY-MM (the first of that month) or YYYY-MM-DD.")
    end_date = MonthOrDateField(
        end=True,
        required=False,
        allow_null=True,
        default=None,
        help_text="YYYY-MM (the whole of that month) or YYYY-MM-DD; null = open-ended.",
    )
    day_of_month = DayOfMonthField(help_text="1–31; beyond a month's length it clamps.")
    is_active = serializers.BooleanField(default=True)
    is_variable_amount = serializers.BooleanField(default=False)

    def validate(self, attrs):
        start, end = attrs.get("start_date"), attrs.get("end_date")
        if start and end and end < start:
            raise serializers.ValidationError(
                {"end_date": ["The end must not be before the start."]}
            )
        if "amount" in attrs and attrs["amount"] is None and not attrs.get(
            "is_variable_amount", getattr(self.instance, "is_variable_amount", False)
        ):
            raise serializers.ValidationError(
                {"amount": ["An amount is required unless is_variable_amount is true."]}
            )
        return attrs


class RecurringOutputSerializer(serializers.ModelSerializer):
    amount = MoneyField(allow_null=True, help_text="null for a variable amount without estimate")
    category_name = serializers.CharField(source="category.name", default=None, allow_null=True)
    category_emoji = serializers.CharField(
        source="category.emoji", default=None, allow_null=True
    )

    class Meta:
        model = RecurringTransaction
        fields = [
            "id",
            "template_name",
            "description",
            "amount",
            "type",
            "category",
            "category_name",
            "category_emoji",
            "frequency",
            "start_date",
            "end_date",
            "day_of_month",
            "is_active",
            "is_variable_amount",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


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


GenerateResponseSerializer = inline_serializer(
    name="RecurringGenerateResponse",
    fields={
        "created": serializers.IntegerField(help_text="how many transactions were created"),
        "through": serializers.DateField(),
        # One transaction shape: the generated transactions are `/transactions` items.
        "transactions": TransactionSerializer(many=True),
    },
)
DeleteResponseSerializer = inline_serializer(
    name="RecurringDeleteResponse",
    fields={
        "id": serializers.UUIDField(),
        "removed_scheduled": serializers.IntegerField(
            help_text="scheduled transactions of the rule that were deleted with it"
        ),
    },
)
ErrorSerializer = inline_serializer(
    name="RecurringError",
    fields={"error": serializers.DictField(help_text="{code, message, fields}")},
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
    "created_at": "2025-08-02T09:00:00+09:00",
    "updated_at": "2025-08-02T09:00:00+09:00",
}
_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such rule of yours.")
_INVALID = OpenApiResponse(
    ErrorSerializer,
    description="Invalid input; `error.fields` names the field.",
    examples=[
        OpenApiExample(
            "end before start",
            value=error_body(
                "validation_error",
                "end_date: The end must not be before the start.",
                {"end_date": ["The end must not be before the start."]},
            ),
        )
    ],
)


# --- Views ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List your recurring rules",
        description="Paginated (`?page=`, `?page_size=`), by template name.",
        responses=RecurringOutputSerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="One recurring rule",
        responses={200: RecurringOutputSerializer, 404: _NOT_FOUND},
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
        responses={201: RecurringOutputSerializer, 400: _INVALID},
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
        responses={200: RecurringOutputSerializer, 400: _INVALID, 404: _NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a recurring rule",
        description="As PUT, with only the fields sent.",
        request=RecurringInputSerializer(partial=True),
        responses={200: RecurringOutputSerializer, 400: _INVALID, 404: _NOT_FOUND},
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
        responses={200: DeleteResponseSerializer, 404: _NOT_FOUND},
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
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = RecurringOutputSerializer

    def get_queryset(self):
        return RecurringTransaction.objects.filter(user=self.request.user).select_related(
            "category"
        )

    def _input(self, *, partial=False, instance=None):
        serializer = RecurringInputSerializer(
            instance=instance,
            data=self.request.data,
            partial=partial,
            context=self.get_serializer_context(),
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _output(self, rule, status_code=status.HTTP_200_OK):
        rule = self.get_queryset().get(pk=rule.pk)
        return Response(RecurringOutputSerializer(rule).data, status=status_code)

    def create(self, request, *args, **kwargs):
        data = self._input()
        rule = recurring_create(user=request.user, **data)
        return self._output(rule, status.HTTP_201_CREATED)

    def update(self, request, *args, partial=False, **kwargs):
        rule = self.get_object()
        # A partial body carries only the fields sent (DRF applies no defaults when partial).
        data = self._input(partial=partial, instance=rule)
        result = recurring_update(rule=rule, data=dict(data))
        return self._output(result.rule)

    def destroy(self, request, *args, **kwargs):
        rule = self.get_object()
        removed = recurring_delete(rule=rule)
        return Response({"id": str(rule.pk), "removed_scheduled": removed})

    @extend_schema(
        summary="Materialize a rule's occurrences now",
        description=(
            "Creates the rule's missing occurrences from its start through `through` (default: "
            "the end of the current month) — the same transactions the nightly engine "
            "creates. Idempotent: a second call creates nothing, and an occurrence the user "
            "deleted is not re-created. Answers 200 with the transactions created now."
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
        responses={200: GenerateResponseSerializer, 400: _INVALID, 404: _NOT_FOUND},
        examples=[
            OpenApiExample(
                "two months created",
                response_only=True,
                value={
                    "created": 1,
                    "through": "2025-08-31",
                    "transactions": [
                        {
                            "id": "9a0e1c1e-8a52-4f9c-b7f4-0f3f0f7c2d10",
                            "date": "2025-08-25",
                            "description": "월세",
                            "amount": 550000,
                            "amount_pending": False,
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
                },
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def generate(self, request, pk=None):
        rule = self.get_object()
        query = GenerateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        through: datetime.date = query.validated_data["through"]
        created = recurring_materialize(rule=rule, through=through)
        rows = transaction_rows(
            transaction_list(user=request.user)
            .filter(pk__in=[row.pk for row in created])
            .order_by("date"),
            fields=TRANSACTION_FIELDS,
        )
        return Response(
            {
                "created": len(created),
                "through": through.isoformat(),
                "transactions": TransactionSerializer(rows, many=True).data,
            }
        )
