"""`GET /sync?since=<revision>`: what changed since a revision, for offline clients.

Rows come in the same rendering as everywhere else (transactions, rules, categories, budget
changes as `GET /budgets` renders them, with their id), with the
ids of deleted rows; `since=0` is a full snapshot in pages. See `ledger.selectors.sync`.
"""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from household_ledger.api.schema import VALIDATION_ERROR, error_response
from ledger.api.budgets import BudgetSerializer
from ledger.api.categories import CategorySerializer
from ledger.api.recurring import RECURRING_FIELDS, RecurringSerializer
from ledger.api.scope import LedgerScopedMixin
from ledger.api.transactions import TRANSACTION_FIELDS, TransactionSerializer
from ledger.models import SyncKind
from ledger.selectors.sync import DEFAULT_LIMIT, MAX_LIMIT, SyncResetRequired, sync_changes


class SyncResetRequiredError(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = (
        "Changes since that revision are no longer known (deletions are kept for "
        "SYNC_TOMBSTONE_DAYS). Sync again from since=0."
    )
    default_code = "sync_reset_required"


class SyncQuerySerializer(serializers.Serializer):
    since = serializers.IntegerField(
        min_value=0, help_text="The `revision` of your last sync; 0 for a full snapshot."
    )
    limit = serializers.IntegerField(
        min_value=1,
        max_value=MAX_LIMIT,
        default=DEFAULT_LIMIT,
        help_text="Rows per page (a page holds whole revisions, so it may exceed this a little).",
    )


class SyncDeletedSerializer(serializers.Serializer):
    transactions = serializers.ListField(child=serializers.UUIDField())
    recurring = serializers.ListField(child=serializers.UUIDField())
    categories = serializers.ListField(child=serializers.UUIDField())
    budgets = serializers.ListField(
        child=serializers.UUIDField(), help_text="The `id`s of budget changes removed."
    )


class SyncBudgetSerializer(BudgetSerializer):
    """A budget change as `GET /budgets/{month}` renders it for its own month (`month` =
    `since`), with the change's `id`, which `deleted.budgets` names."""

    id = serializers.UUIDField()


class SyncPageSerializer(serializers.Serializer):
    revision = serializers.IntegerField(
        help_text="Send it as `since` next time: where the next page starts."
    )
    has_more = serializers.BooleanField(help_text="More changes follow: ask again right away.")
    transactions = TransactionSerializer(many=True)
    recurring = RecurringSerializer(many=True)
    categories = CategorySerializer(many=True)
    budgets = SyncBudgetSerializer(
        many=True, help_text="Budget changes made or replaced, by month (lines included)."
    )
    deleted = SyncDeletedSerializer()


FIELDS = {SyncKind.TRANSACTION: TRANSACTION_FIELDS, SyncKind.RECURRING: RECURRING_FIELDS}

SYNC_RESET = error_response(
    "`since` is older than the deletions kept, or newer than the data: sync from 0.",
    example={
        "error": {"code": "sync_reset_required", "message": SyncResetRequiredError.default_detail}
    },
)


class SyncView(LedgerScopedMixin, APIView):
    @extend_schema(
        tags=["sync"],
        summary="Changes since a revision (offline clients)",
        description="Rows changed after `since` (created or edited), ordered by revision, and "
        "the ids of rows deleted since, in pages; keep asking with the answer's `revision` "
        "while `has_more`. `since=0` is a full snapshot (the default categories included).",
        parameters=[SyncQuerySerializer],
        responses={200: SyncPageSerializer, 400: VALIDATION_ERROR, 410: SYNC_RESET},
        examples=[
            OpenApiExample(
                "Nothing new",
                value={
                    "revision": 42,
                    "has_more": False,
                    "transactions": [],
                    "recurring": [],
                    "categories": [],
                    "budgets": [],
                    "deleted": {
                        "transactions": [],
                        "recurring": [],
                        "categories": [],
                        "budgets": [],
                    },
                },
                response_only=True,
            )
        ],
    )
    def get(self, request):
        query = SyncQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            page = sync_changes(
                ledger=request.ledger,
                since=query.validated_data["since"],
                limit=query.validated_data["limit"],
                fields=FIELDS,
            )
        except SyncResetRequired:
            raise SyncResetRequiredError from None
        return Response(SyncPageSerializer(page).data)
