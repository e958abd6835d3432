"""`/transactions`: list with filters, CRUD, and the calendar views by date and by month."""

import datetime

import django_filters
from django import forms
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from household_ledger.api.preconditions import (
    IF_MATCH_PARAMETER,
    IF_NONE_MATCH_PARAMETER,
    NOT_MODIFIED,
    PRECONDITION_FAILED,
    ConditionalWriteMixin,
    RevisionETagMixin,
)
from household_ledger.api.rows import RowSerializer
from household_ledger.api.schema import NOT_FOUND, VALIDATION_ERROR
from ledger.api.fields import LocalDateField, MoneyField, RowReferenceField
from ledger.api.idempotency import IdempotentWriteMixin
from ledger.api.paths import (
    DAY_PARAMETER,
    MONTH_PARAMETER,
    YEAR_PARAMETER,
    parse_day,
    parse_year_month,
)
from ledger.api.scope import LedgerScopedMixin
from ledger.dates import month_end
from ledger.models import (
    Category,
    RecurringTransaction,
    Transaction,
    TransactionStatus,
    TransactionType,
)
from ledger.selectors.categories import category_list
from ledger.selectors.transactions import (
    transaction_calendar,
    transaction_list,
    transaction_row,
    transaction_rows,
)
from ledger.services.transactions import (
    transaction_create,
    transaction_delete,
    transaction_update,
)

UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ISO_DATE_FORMATS = ["%Y-%m-%d"]


# --- filters --------------------------------------------------------------------------------


def _own_categories(request):
    return category_list(ledger=request.ledger) if request else Category.objects.none()


def _own_rules(request):
    if request is None:
        return RecurringTransaction.objects.none()
    return RecurringTransaction.objects.filter(ledger=request.ledger)


class TransactionFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "Must not be before date_from.")
        amount_min, amount_max = data.get("amount_min"), data.get("amount_max")
        if amount_min is not None and amount_max is not None and amount_min > amount_max:
            self.add_error("amount_max", "Must not be less than amount_min.")
        return data


class TransactionOrderingFilter(django_filters.OrderingFilter):
    """`ordering=amount,-date`; ties always end newest first, so pages are stable."""

    def filter(self, qs, value):
        ordering = [self.get_ordering_value(param) for param in value or () if param]
        if not ordering:
            return qs
        ordering += [
            f
            for f in ("-date", "-created_at", "-id")
            if f.lstrip("-") not in {o.lstrip("-") for o in ordering}
        ]
        return qs.order_by(*ordering)


class TransactionFilter(django_filters.FilterSet):
    """Every value is validated: a bad one is a 400 naming the parameter, never an empty list."""

    date_from = django_filters.DateFilter(
        field_name="date",
        lookup_expr="gte",
        input_formats=_ISO_DATE_FORMATS,
        label="On or after this date (YYYY-MM-DD, inclusive).",
    )
    date_to = django_filters.DateFilter(
        field_name="date",
        lookup_expr="lte",
        input_formats=_ISO_DATE_FORMATS,
        label="On or before this date (YYYY-MM-DD, inclusive).",
    )
    type = django_filters.ChoiceFilter(choices=TransactionType.choices, label="income or expense.")
    status = django_filters.ChoiceFilter(
        choices=TransactionStatus.choices, label="confirmed or scheduled."
    )
    category = django_filters.ModelChoiceFilter(
        queryset=_own_categories,
        null_label="uncategorized",
        null_value="none",
        label="A category id (a default or your own), or `none` for uncategorized.",
    )
    recurring = django_filters.ModelChoiceFilter(
        queryset=_own_rules, label="A recurring rule id: the transactions it generated."
    )
    q = django_filters.CharFilter(
        field_name="description",
        lookup_expr="icontains",
        max_length=200,
        label="Case-insensitive search in the description.",
    )
    amount_min = django_filters.NumberFilter(
        field_name="amount",
        lookup_expr="gte",
        max_digits=15,
        decimal_places=2,
        label="Amount at least this.",
    )
    amount_max = django_filters.NumberFilter(
        field_name="amount",
        lookup_expr="lte",
        max_digits=15,
        decimal_places=2,
        label="Amount at most this.",
    )
    ordering = TransactionOrderingFilter(
        fields=("date", "amount", "created_at"),
        label="date, amount or created_at, `-` for descending; comma-separated. "
        "Default: -date,-created_at.",
    )

    class Meta:
        model = Transaction
        fields = []
        form = TransactionFilterForm


# --- serializers ----------------------------------------------------------------------------


class TransactionInputSerializer(serializers.Serializer):
    """What a client sends to create or change a transaction. `user` and `recurring` are not
    accepted: the owner is the caller, and only the recurring engine links a rule."""

    date = LocalDateField(
        help_text="YYYY-MM-DD, or an ISO date-time such as the SPA's 2025-07-24T15:00:00.000Z, "
        "which becomes the date in the ledger's time zone (2025-07-25 in Asia/Seoul)."
    )
    description = serializers.CharField(max_length=500)
    amount = MoneyField(help_text="> 0, at most 2 decimal places and 13 integer digits.")
    type = serializers.ChoiceField(choices=TransactionType.choices)
    category = RowReferenceField(
        queryset=Category.objects.none(),
        pk_field=serializers.UUIDField(),
        allow_null=True,
        required=False,
        default=None,
        error_messages={"does_not_exist": "Unknown category: use a default one or your own."},
        help_text="Id of a default category or one of your own; null for uncategorized.",
    )
    status = serializers.ChoiceField(
        choices=TransactionStatus.choices, default=TransactionStatus.CONFIRMED
    )

    def __init__(self, *args, ledger=None, **kwargs):
        super().__init__(*args, **kwargs)
        if ledger is not None:
            self.fields["category"].queryset = category_list(ledger=ledger)


class CreatedBySerializer(serializers.Serializer):
    """Who entered a row of a ledger (for a household: which member)."""

    id = serializers.UUIDField()
    email = serializers.CharField()


# The `values()` keys of `created_by`: the user comes by the row's own join, not a query each.
CREATED_BY_KEYS = ("created_by_id", "created_by__email")


def created_by_of(row) -> dict | None:
    user_id = row.get("created_by_id")
    if user_id is None:
        return None
    return {"id": str(user_id), "email": row.get("created_by__email") or ""}


class TransactionSerializer(RowSerializer):
    """A transaction as every answer shows it (list, detail, calendar, generate); the
    category's name and emoji are inline. Renders the dict rows of `row_keys()`."""

    id = serializers.UUIDField()
    date = serializers.DateField()
    description = serializers.CharField()
    amount = serializers.DecimalField(
        max_digits=15,
        decimal_places=2,
        coerce_to_string=False,
        allow_null=True,
        help_text="A JSON number; null only while `amount_pending`.",
    )
    type = serializers.ChoiceField(choices=TransactionType.choices)
    category = serializers.UUIDField(source="category_id", allow_null=True)
    category_name = serializers.CharField(source="category.name", allow_null=True)
    category_emoji = serializers.CharField(source="category.emoji", allow_null=True)
    status = serializers.ChoiceField(choices=TransactionStatus.choices)
    recurring = serializers.UUIDField(
        source="recurring_id",
        allow_null=True,
        help_text="The recurring rule that generated it, if any.",
    )
    projected = serializers.SerializerMethodField(
        help_text="True only for calendar entries of a rule occurrence with no transaction yet."
    )
    amount_pending = serializers.SerializerMethodField(
        help_text="True for a variable-amount occurrence awaiting its amount (amount is null)."
    )
    created_by = serializers.SerializerMethodField(
        help_text="Who entered it: `{id, email}`; null when unknown (a rule's occurrence "
        "carries the rule's author)."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    method_keys = CREATED_BY_KEYS

    @extend_schema_field(CreatedBySerializer(allow_null=True))
    def get_created_by(self, row) -> dict | None:
        return created_by_of(row)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_projected(self, row) -> bool:
        return row.get("projected", False)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_amount_pending(self, row) -> bool:
        return row["amount"] is None


TRANSACTION_FIELDS = TransactionSerializer.row_keys()


class CalendarEntrySerializer(TransactionSerializer):
    """A transaction, or (`projected: true`) an occurrence a rule will yield: `id`,
    `created_at` and `updated_at` are null then, `status` is `scheduled`, `recurring` is set."""

    id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class CalendarQuerySerializer(serializers.Serializer):
    include_projected = serializers.BooleanField(
        default=False,
        help_text="Also list the recurring occurrences that have no transaction yet (📅).",
    )


# --- examples -------------------------------------------------------------------------------

_TRANSACTION_EXAMPLE = {
    "id": "0b7c6d0e-3c1f-4a55-9a57-1f0f2a4f7e01",
    "date": "2025-07-25",
    "description": "점심",
    "amount": 5400,
    "type": "expense",
    "category": "6f1d2a34-5b6c-4d7e-8f90-a1b2c3d4e5f6",
    "category_name": "식비",
    "category_emoji": "🍽️",
    "status": "confirmed",
    "recurring": None,
    "projected": False,
    "amount_pending": False,
    "created_by": {"id": "7d3f0c2e-1b4a-4c8d-9e6f-2a1b3c4d5e6f", "email": "minji@example.com"},
    "created_at": "2025-07-25T12:31:04.120000+09:00",
    "updated_at": "2025-07-25T12:31:04.120000+09:00",
}
_PROJECTED_EXAMPLE = {
    **_TRANSACTION_EXAMPLE,
    "id": None,
    "date": "2025-07-25",
    "description": "월세",
    "amount": 550000,
    "category_name": "월세",
    "category_emoji": "🏠",
    "status": "scheduled",
    "recurring": "3a9e1c55-0d2b-4f1e-9c6a-7b8d9e0f1a2b",
    "projected": True,
    "created_at": None,
    "updated_at": None,
}
TRANSACTION_EXAMPLE = OpenApiExample(
    "A transaction", value=_TRANSACTION_EXAMPLE, response_only=True
)
CREATE_EXAMPLES = [
    OpenApiExample(
        "A lunch",
        value={
            "date": "2025-07-25",
            "description": "점심",
            "amount": 5400,
            "type": "expense",
            "category": "6f1d2a34-5b6c-4d7e-8f90-a1b2c3d4e5f6",
        },
        request_only=True,
    ),
    OpenApiExample(
        "The SPA's ISO instant (25 July in Seoul)",
        value={
            "date": "2025-07-24T15:00:00.000Z",
            "description": "월급",
            "amount": 3000000,
            "type": "income",
            "category": None,
            "status": "confirmed",
        },
        request_only=True,
    ),
]
CONFIRM_EXAMPLE = OpenApiExample(
    "Confirm a variable-amount occurrence with its amount",
    value={
        "date": "2025-08-20",
        "description": "전기요금",
        "amount": 48210,
        "type": "expense",
        "category": None,
        "status": "confirmed",
    },
    request_only=True,
)
CALENDAR_EXAMPLE = OpenApiExample(
    "A transaction and a projected occurrence",
    value=[_TRANSACTION_EXAMPLE, _PROJECTED_EXAMPLE],
    response_only=True,
)
ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)
WRITE_RESPONSES = {400: VALIDATION_ERROR, 404: NOT_FOUND, 412: PRECONDITION_FAILED}


# --- views ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List transactions (filtered, paginated)",
        description="Newest date first (then newest created), unless `ordering` says otherwise. "
        "Every filter value is validated: a bad date, an unknown enum value, a malformed id or "
        "the id of a category or rule that is not yours answers 400 naming the parameter.",
        parameters=[
            OpenApiParameter(
                "category",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                description="A category id (a default or your own), or `none` for "
                "uncategorized transactions.",
                examples=[
                    OpenApiExample("A category", value="6f1d2a34-5b6c-4d7e-8f90-a1b2c3d4e5f6"),
                    OpenApiExample("Uncategorized", value="none"),
                ],
            ),
            IF_NONE_MATCH_PARAMETER,
        ],
        responses={200: TransactionSerializer(many=True), 304: NOT_MODIFIED, 400: VALIDATION_ERROR},
        examples=[TRANSACTION_EXAMPLE],
    ),
    retrieve=extend_schema(
        summary="One transaction",
        parameters=[ID_PARAMETER],
        responses={200: TransactionSerializer, 404: NOT_FOUND},
        examples=[TRANSACTION_EXAMPLE],
    ),
    destroy=extend_schema(
        summary="Delete a transaction",
        description="A deleted recurring occurrence is not re-created by the engine.",
        parameters=[ID_PARAMETER, IF_MATCH_PARAMETER],
        responses={
            204: OpenApiResponse(description="Deleted."),
            404: NOT_FOUND,
            412: PRECONDITION_FAILED,
        },
    ),
)
class TransactionViewSet(
    LedgerScopedMixin,
    IdempotentWriteMixin,
    RevisionETagMixin,
    ConditionalWriteMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = TransactionSerializer
    filterset_class = TransactionFilter
    lookup_value_regex = UUID_PATTERN
    revision_etag_actions = ("list", "by_date", "by_month")

    def get_queryset(self):
        return transaction_list(ledger=self.ledger)

    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        rows = transaction_rows(queryset, fields=TRANSACTION_FIELDS)
        # Unfiltered, the ledger's rows are all of them: their count is kept on the ledger.
        count = None if self._filtered() else request.ledger.transaction_count
        page = self.paginator.paginate_queryset(rows, request, view=self, count=count)
        return self.get_paginated_response(TransactionSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self._row_response(self.get_object().pk)

    def render_current(self, obj) -> dict:
        row = transaction_row(ledger=self.request.ledger, pk=obj.pk, fields=TRANSACTION_FIELDS)
        return TransactionSerializer(row).data

    def _row_response(self, pk, *, status_code=status.HTTP_200_OK) -> Response:
        try:
            row = transaction_row(ledger=self.request.ledger, pk=pk, fields=TRANSACTION_FIELDS)
        except Transaction.DoesNotExist:
            raise Http404 from None
        return Response(TransactionSerializer(row).data, status=status_code)

    def filter_queryset(self, queryset):
        # Filters belong to the list; a detail URL answers for its id whatever the query string.
        # With no filter asked for, django-filter would copy its filters and validate an empty
        # form (a fifth of the list page's time, bench.profile_request) to leave it as it is.
        if self.action != "list" or not self._filtered():
            return queryset
        return super().filter_queryset(queryset)

    def _filtered(self) -> bool:
        """Whether the list was asked for any filter (or an ordering)."""
        params = self.request.query_params
        return any(name in params for name in TransactionFilter.base_filters)

    def _input(self, data, **kwargs) -> TransactionInputSerializer:
        return TransactionInputSerializer(data=data, ledger=self.request.ledger, **kwargs)

    @extend_schema(
        summary="Create a transaction",
        request=TransactionInputSerializer,
        responses={201: TransactionSerializer, 400: VALIDATION_ERROR},
        examples=[*CREATE_EXAMPLES, TRANSACTION_EXAMPLE],
    )
    def create(self, request):
        serializer = self._input(request.data)
        serializer.is_valid(raise_exception=True)
        created = transaction_create(
            ledger=request.ledger, created_by=request.user, **serializer.validated_data
        )
        return self._row_response(created.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Replace a transaction",
        description="All fields; omitted optional ones take their defaults (`category` null, "
        "`status` confirmed). `amount` may be omitted only while it is pending and the "
        "transaction stays scheduled. A generated occurrence keeps its `recurring` link.",
        parameters=[ID_PARAMETER, IF_MATCH_PARAMETER],
        request=TransactionInputSerializer,
        responses={200: TransactionSerializer, **WRITE_RESPONSES},
        examples=[CONFIRM_EXAMPLE, TRANSACTION_EXAMPLE],
    )
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(
        summary="Change some fields of a transaction",
        description="Confirming a transaction whose amount is pending needs `amount` in the same "
        "request (400 naming `amount` otherwise); `amount` can never be set to null.",
        parameters=[ID_PARAMETER, IF_MATCH_PARAMETER],
        request=TransactionInputSerializer(partial=True),
        responses={200: TransactionSerializer, **WRITE_RESPONSES},
        examples=[CONFIRM_EXAMPLE, TRANSACTION_EXAMPLE],
    )
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool):
        instance = self.get_object()
        serializer = self._input(request.data, partial=partial)
        if instance.amount is None:  # pending: PUT may leave it out while staying scheduled
            serializer.fields["amount"].required = False
        serializer.is_valid(raise_exception=True)
        updated = transaction_update(transaction=instance, **serializer.validated_data)
        return self._row_response(updated.pk)

    def perform_destroy(self, instance):
        transaction_delete(transaction=instance)

    @extend_schema(
        summary="One day's transactions (calendar)",
        description="Unpaginated, in creation order. With `include_projected=true`, also the "
        "day's recurring occurrences that have no transaction yet, as entries with "
        '`"id": null, "projected": true` and `recurring` set (after the real ones).',
        parameters=[
            DAY_PARAMETER,
            CalendarQuerySerializer,
            IF_NONE_MATCH_PARAMETER,
        ],
        responses={
            200: CalendarEntrySerializer(many=True),
            304: NOT_MODIFIED,
            400: VALIDATION_ERROR,
        },
        examples=[CALENDAR_EXAMPLE],
    )
    @action(
        detail=False,
        methods=["get"],
        url_path=r"by-date/(?P<date>[^/]+)",
        pagination_class=None,
        filter_backends=[],
    )
    def by_date(self, request, date=None):
        day = parse_day(date)
        return self._calendar(request, date_from=day, date_to=day)

    @extend_schema(
        summary="One month's transactions (calendar)",
        description="Unpaginated, by date (then creation order). With `include_projected=true`, "
        "also the month's recurring occurrences that have no transaction yet, as entries with "
        '`"id": null, "projected": true` and `recurring` set.',
        parameters=[
            YEAR_PARAMETER,
            MONTH_PARAMETER,
            CalendarQuerySerializer,
            IF_NONE_MATCH_PARAMETER,
        ],
        responses={
            200: CalendarEntrySerializer(many=True),
            304: NOT_MODIFIED,
            400: VALIDATION_ERROR,
        },
        examples=[CALENDAR_EXAMPLE],
    )
    @action(
        detail=False,
        methods=["get"],
        url_path=r"by-month/(?P<year>[^/]+)/(?P<month>[^/]+)",
        pagination_class=None,
        filter_backends=[],
    )
    def by_month(self, request, year=None, month=None):
        first = datetime.date(*parse_year_month(year, month), 1)
        return self._calendar(request, date_from=first, date_to=month_end(first))

    def _calendar(self, request, *, date_from, date_to) -> Response:
        query = CalendarQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = transaction_calendar(
            ledger=request.ledger,
            date_from=date_from,
            date_to=date_to,
            include_projected=query.validated_data["include_projected"],
            fields=TRANSACTION_FIELDS,
        )
        return Response(CalendarEntrySerializer(rows, many=True).data)
