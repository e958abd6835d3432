"""`/categories`: the global defaults (read-only) plus the user's own (full CRUD)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from household_ledger.api.preconditions import (
    IF_NONE_MATCH_PARAMETER,
    NOT_MODIFIED,
    RevisionETagMixin,
)
from household_ledger.api.schema import NOT_FOUND, VALIDATION_ERROR, error_response
from ledger.api.fields import MoneyField
from ledger.api.idempotency import IdempotentWriteMixin
from ledger.api.scope import LedgerAccess, LedgerScopedMixin
from ledger.api.transactions import UUID_PATTERN
from ledger.models import Transaction, TransactionType
from ledger.selectors.categories import category_list
from ledger.selectors.category_suggestions import MAX_SUGGESTIONS, category_suggest
from ledger.services.categories import category_create, category_delete, category_update

READ_ONLY_MESSAGE = "Default categories are read-only; create a category of your own instead."


class DefaultCategoryReadOnly(permissions.BasePermission):
    message = READ_ONLY_MESSAGE

    def has_object_permission(self, request, view, obj):
        return request.method in permissions.SAFE_METHODS or not obj.is_default


class CategoryInputSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=100,
        help_text="Unique among your categories, and not the name of a default category "
        "(exact match after trimming spaces).",
    )
    emoji = serializers.CharField(max_length=10, allow_blank=True, required=False, default="")


class CategorySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    emoji = serializers.CharField()
    is_default = serializers.BooleanField(
        help_text="A global default (read-only); false for your own categories."
    )
    created_at = serializers.DateTimeField()


class CategoryDeletionSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The id of the deleted category.")
    uncategorized_transactions = serializers.IntegerField(
        help_text="Your transactions that had this category and are now uncategorized."
    )
    uncategorized_recurring_rules = serializers.IntegerField(
        help_text="Your recurring rules that had this category and are now uncategorized."
    )


class CategorySuggestInput(serializers.Serializer):
    """The query of `GET /categories/suggest`."""

    description = serializers.CharField(
        max_length=Transaction._meta.get_field("description").max_length,
        help_text="What the user typed so far (as a transaction's description: not blank, "
        "at most 500 characters).",
    )
    type = serializers.ChoiceField(
        choices=TransactionType.choices, help_text="The transaction's type."
    )
    amount = MoneyField(
        required=False,
        help_text="The amount, if known (validated; the ranking does not use it today: "
        "docs/suggestions.md).",
    )


class CategorySuggestionSerializer(serializers.Serializer):
    category = CategorySerializer()
    score = serializers.FloatField(
        min_value=0.0,
        max_value=1.0,
        help_text="How much of the evidence points to this category (0–1; the suggestions' "
        "scores add up to at most 1).",
    )


ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)
READ_ONLY = error_response(
    "The category is a default one: read-only.",
    example={"error": {"code": "permission_denied", "message": READ_ONLY_MESSAGE}},
)
CATEGORY_EXAMPLE = OpenApiExample(
    "A category",
    value={
        "id": "6f1d2a34-5b6c-4d7e-8f90-a1b2c3d4e5f6",
        "name": "쇼핑",
        "emoji": "🛍️",
        "is_default": False,
        "created_at": "2025-08-02T10:00:00+09:00",
    },
    response_only=True,
)
CATEGORY_INPUT_EXAMPLE = OpenApiExample(
    "A new category", value={"name": "쇼핑", "emoji": "🛍️"}, request_only=True
)
WRITE_RESPONSES = {400: VALIDATION_ERROR, 403: READ_ONLY, 404: NOT_FOUND}
SUGGESTION_EXAMPLE = OpenApiExample(  # one suggestion; the schema shows it in its list
    "스타벅스 라떼 (expense)",
    value={
        "category": {
            "id": "0b6f3c2e-8a41-4d5e-9f7a-2c1d3e4f5a6b",
            "name": "카페",
            "emoji": "☕",
            "is_default": True,
            "created_at": "2025-08-02T10:00:00+09:00",
        },
        "score": 0.9524,
    },
    response_only=True,
)
SUGGESTION_BAD_TYPE = error_response(
    "A missing, blank or overlong `description`, an unknown `type` or a bad `amount`; "
    "`fields` names it.",
    example={
        "error": {
            "code": "validation_error",
            "message": 'type: "transfer" is not a valid choice.',
            "fields": {"type": ['"transfer" is not a valid choice.']},
        }
    },
)


@extend_schema_view(
    list=extend_schema(
        summary="List categories: the defaults (in the SPA's order), then your own (by name)",
        description="Unpaginated; you can have at most 200 categories of your own.",
        parameters=[IF_NONE_MATCH_PARAMETER],
        responses={200: CategorySerializer(many=True), 304: NOT_MODIFIED},
        examples=[CATEGORY_EXAMPLE],
    ),
    retrieve=extend_schema(
        summary="One category (a default or your own)",
        parameters=[ID_PARAMETER],
        responses={200: CategorySerializer, 404: NOT_FOUND},
        examples=[CATEGORY_EXAMPLE],
    ),
)
class CategoryViewSet(
    LedgerScopedMixin,
    IdempotentWriteMixin,
    RevisionETagMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = CategorySerializer
    revision_etag_actions = ("list", "suggest")
    pagination_class = None
    filter_backends = []
    permission_classes = [LedgerAccess, DefaultCategoryReadOnly]
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        return category_list(ledger=self.ledger)

    @extend_schema(
        summary=f"Suggest up to {MAX_SUGGESTIONS} categories for a description, best first",
        description="Learned from your own transactions of that type (the latest write "
        "counts at once; recent rows weigh more), else from built-in Korean spending and "
        "income words for the default categories. Only categories you may use. An empty "
        "list when nothing fits. Never assigns a category by itself: `POST /transactions` "
        "without `category` stays uncategorized.",
        parameters=[CategorySuggestInput, IF_NONE_MATCH_PARAMETER],
        responses={
            200: CategorySuggestionSerializer(many=True),
            304: NOT_MODIFIED,
            400: SUGGESTION_BAD_TYPE,
        },
        examples=[SUGGESTION_EXAMPLE],
    )
    @action(detail=False, methods=["get"], url_path="suggest")
    def suggest(self, request):
        serializer = CategorySuggestInput(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        query = serializer.validated_data
        suggestions = category_suggest(
            ledger=request.ledger, description=query["description"], type=query["type"]
        )
        return Response(CategorySuggestionSerializer(suggestions, many=True).data)

    @extend_schema(
        summary="Create a category of your own",
        request=CategoryInputSerializer,
        responses={201: CategorySerializer, 400: VALIDATION_ERROR},
        examples=[CATEGORY_INPUT_EXAMPLE, CATEGORY_EXAMPLE],
    )
    def create(self, request):
        serializer = CategoryInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = category_create(ledger=request.ledger, **serializer.validated_data)
        return Response(CategorySerializer(category).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Replace one of your categories",
        description="`emoji` defaults to empty when omitted. Defaults answer 403.",
        parameters=[ID_PARAMETER],
        request=CategoryInputSerializer,
        responses={200: CategorySerializer, **WRITE_RESPONSES},
        examples=[CATEGORY_INPUT_EXAMPLE, CATEGORY_EXAMPLE],
    )
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(
        summary="Rename one of your categories or change its emoji",
        description="Defaults answer 403.",
        parameters=[ID_PARAMETER],
        request=CategoryInputSerializer(partial=True),
        responses={200: CategorySerializer, **WRITE_RESPONSES},
        examples=[CATEGORY_INPUT_EXAMPLE, CATEGORY_EXAMPLE],
    )
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool):
        category = self.get_object()
        serializer = CategoryInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        category = category_update(category=category, **serializer.validated_data)
        return Response(CategorySerializer(category).data)

    @extend_schema(
        summary="Delete one of your categories",
        description="Nothing else is deleted: the transactions and recurring rules that had this "
        "category are kept and become uncategorized (`category` null); the response counts "
        "them. Defaults answer 403.",
        parameters=[ID_PARAMETER],
        responses={200: CategoryDeletionSerializer, 403: READ_ONLY, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "Deleted; 12 transactions and 1 rule are now uncategorized",
                value={
                    "id": "6f1d2a34-5b6c-4d7e-8f90-a1b2c3d4e5f6",
                    "uncategorized_transactions": 12,
                    "uncategorized_recurring_rules": 1,
                },
                response_only=True,
            )
        ],
    )
    def destroy(self, request, pk=None):
        category = self.get_object()
        category_id = category.id
        result = category_delete(category=category)
        body = {
            "id": category_id,
            "uncategorized_transactions": result.uncategorized_transactions,
            "uncategorized_recurring_rules": result.uncategorized_recurring_rules,
        }
        return Response(CategoryDeletionSerializer(body).data)
