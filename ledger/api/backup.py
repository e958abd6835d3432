"""GET /backup/export and POST /backup/import: thin views over `ledger.services.backup`.

The import never holds the file in memory: a JSON body is spooled to a temporary file as it
arrives (`BackupFileParser`), a multipart upload is one already (Django's upload handlers), and
the service reads that file as a stream. At most IMPORT_SLOTS imports run at once in a process
(`IMPORT_SLOTS_OF_PROCESS`); another is answered 429 `import_busy`, its body read and dropped.
"""

import contextlib
import tempfile
from collections.abc import Iterator

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import exceptions, serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from household_ledger.api.exceptions import error_body
from household_ledger.api.schema import ErrorSerializer
from household_ledger.api.slots import ProcessSlots, SlotsBusy
from ledger.api.budgets import BudgetSerializer
from ledger.api.categories import CategorySerializer
from ledger.api.idempotency import IdempotentWriteMixin
from ledger.api.scope import LedgerScopedMixin
from ledger.models import TransactionStatus, TransactionType
from ledger.services.backup import (
    EXPORT_FORMATS,
    MODES,
    OWN,
    BackupError,
    BackupRowsInvalid,
    BackupTooLarge,
    backup_content_disposition,
    backup_export,
    backup_export_filename,
    backup_import,
)
from ledger.services.backup.exporter import BackupRuleSerializer, BackupTransactionSerializer

# Room for the multipart envelope (boundaries, headers, the mode/dry_run fields) over the file.
_MULTIPART_SLACK = 64 * 1024
_COPY_BLOCK = 64 * 1024
# A JSON body up to this size stays in memory; a larger one goes to a temporary file.
_SPOOL_IN_MEMORY = 1024 * 1024


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The file is too large."


class ImportBusy(SlotsBusy):
    default_detail = (
        "Another import is running on this server process. Try again after Retry-After seconds."
    )


IMPORT_SLOTS_OF_PROCESS = ProcessSlots(size_setting="IMPORT_SLOTS", busy=ImportBusy)


class _BodyFile:
    """The JSON body, spooled to a file: the import service reads it itself."""

    def __init__(self, file):
        self.file = file


class BackupFileParser(BaseParser):
    """Copies an `application/json` body to a temporary file (not parsed here), refusing more
    than IMPORT_MAX_BYTES. Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) is for forms."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.IMPORT_MAX_BYTES
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
        size = 0
        while stream is not None and (block := stream.read(_COPY_BLOCK)):
            size += len(block)
            if size > limit:
                spool.close()
                raise PayloadTooLarge(_too_large_message(limit))
            spool.write(block)
        spool.seek(0)
        return _BodyFile(spool)


class _IgnoreFormatParameter(DefaultContentNegotiation):
    """`?format=` names the export format here, not a DRF renderer: always answer JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ExportQueryInputSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=EXPORT_FORMATS, default=OWN)


class ImportOptionsInputSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=MODES, default="merge")
    dry_run = serializers.BooleanField(default=False)


class ImportProblemOutputSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=["error", "warning"])
    table = serializers.CharField()
    index = serializers.IntegerField(allow_null=True, help_text="0-based row in its table")
    id = serializers.CharField(allow_null=True, help_text="the row's id in the file")
    field = serializers.CharField(allow_null=True)
    reason = serializers.CharField()


class ImportCountsOutputSerializer(serializers.Serializer):
    categories = serializers.IntegerField()
    recurring_transactions = serializers.IntegerField()
    transactions = serializers.IntegerField()
    budgets = serializers.IntegerField(
        required=False, help_text="budget changes; only when the file has some"
    )


class ImportCreatedOutputSerializer(ImportCountsOutputSerializer):
    occurrences = serializers.IntegerField(
        help_text="occurrence records that stop the recurring engine re-creating imported rows"
    )
    past_dates_closed = serializers.IntegerField(
        help_text="past dates of imported browser rules with no transaction in the file, "
        "recorded so the recurring engine does not back-fill them"
    )


class ImportChangeOutputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["updated", "conflict", "missing_from_file"])
    table = serializers.CharField()
    index = serializers.IntegerField(allow_null=True, help_text="0-based row in its table")
    id = serializers.CharField(allow_null=True, help_text="the row's id in the file")
    server_id = serializers.CharField(help_text="the row's id on the server")
    fields = serializers.ListField(child=serializers.CharField(), help_text="what differs")
    server = serializers.JSONField(help_text="the server's version (before an update)")
    file = serializers.JSONField(allow_null=True, help_text="the file's version")


class ImportReportOutputSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    format = serializers.ChoiceField(choices=["spa-v1", "dexie", "household_ledger"])
    mode = serializers.ChoiceField(choices=MODES)
    dry_run = serializers.BooleanField()
    time_zone = serializers.CharField()
    rows = ImportCountsOutputSerializer(help_text="rows in the file")
    created = ImportCreatedOutputSerializer()
    updated = ImportCountsOutputSerializer(
        help_text="imported before and changed in the browser since: the file's version written"
    )
    skipped = ImportCountsOutputSerializer(help_text="already imported, or left out (see problems)")
    conflicts = ImportCountsOutputSerializer(
        help_text="changed in the browser and on the server since the import: the server's kept"
    )
    missing_from_file = ImportCountsOutputSerializer(
        help_text="imported before but not in this file: left as they are"
    )
    deleted = ImportCountsOutputSerializer(help_text="replace mode: what was deleted first")
    failed = serializers.IntegerField(help_text="invalid rows; any makes the import refused")
    errors = serializers.IntegerField()
    warnings = serializers.IntegerField()
    problems = ImportProblemOutputSerializer(many=True)
    problems_not_listed = serializers.IntegerField()
    changes = ImportChangeOutputSerializer(
        many=True, help_text="the rows counted in updated, conflicts and missing_from_file"
    )
    changes_not_listed = serializers.IntegerField()


class OwnExportSerializer(serializers.Serializer):
    """The `household_ledger` export: the rows as the API renders them (schema only)."""

    format = serializers.ChoiceField(choices=[OWN])
    version = serializers.IntegerField()
    exported_at = serializers.DateTimeField()
    time_zone = serializers.CharField(help_text="the IANA time zone the dates are local to")
    categories = CategorySerializer(many=True, help_text="the user's own categories")
    recurring_transactions = BackupRuleSerializer(many=True)
    transactions = BackupTransactionSerializer(many=True)
    budgets = BudgetSerializer(many=True, help_text="budget changes, oldest first")


class SpaTransactionSerializer(serializers.Serializer):
    """A row of the SPA's own backup format (its camelCase and names kept; schema only)."""

    id = serializers.CharField()
    description = serializers.CharField()
    amount = serializers.FloatField(allow_null=True)
    type = serializers.ChoiceField(choices=TransactionType.choices)
    date = serializers.DateTimeField(help_text="a UTC instant of the local date")
    category = serializers.CharField(allow_null=True, help_text="the category's name")
    status = serializers.ChoiceField(choices=TransactionStatus.choices)
    recurring_id = serializers.CharField(allow_null=True)


class SpaExportSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    exportDate = serializers.DateTimeField()  # noqa: N815 - the SPA's own format
    transactions = SpaTransactionSerializer(many=True)


ExportSerializer = PolymorphicProxySerializer(
    component_name="BackupExport",
    serializers=[OwnExportSerializer, SpaExportSerializer],
    resource_type_field_name=None,
)


class _ImportErrorDetail(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )
    report = ImportReportOutputSerializer(
        required=False, help_text="`invalid_backup` only: the report, every bad row listed"
    )


class ImportErrorSerializer(serializers.Serializer):
    error = _ImportErrorDetail()


class BackupExportView(LedgerScopedMixin, APIView):
    content_negotiation_class = _IgnoreFormatParameter
    throttle_scope = "backup"  # household_ledger.api.throttles

    @extend_schema(
        operation_id="backup_export",
        summary="Download the user's data as one JSON document",
        parameters=[
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=list(EXPORT_FORMATS),
                description="`household_ledger` (default; re-importable exactly) or `spa-v1` "
                "(the SPA's own backup shape)",
            )
        ],
        responses={(200, "application/json"): ExportSerializer},
    )
    def get(self, request):
        query = ExportQueryInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        response = StreamingHttpResponse(
            backup_export(ledger=request.ledger, export_format=query.validated_data["format"]),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = backup_content_disposition(
            filename=backup_export_filename(ledger=request.ledger)
        )
        response["Cache-Control"] = "no-store"
        return response


class BackupImportView(LedgerScopedMixin, IdempotentWriteMixin, APIView):
    parser_classes = [BackupFileParser, MultiPartParser]
    throttle_scope = "backup"  # household_ledger.api.throttles
    streams_body = True  # household_ledger.limits: the body is not read into memory first

    @staticmethod
    def max_body_bytes():
        """The body limit (household_ledger.limits): the file plus its multipart envelope."""
        return settings.IMPORT_MAX_BYTES + _MULTIPART_SLACK

    @extend_schema(
        operation_id="backup_import",
        summary="Restore from a backup: the SPA's file, a Dexie dump of ledgerDB, or an export",
        description=(
            "Send the file as `multipart/form-data` (field `file`, optional fields `mode`, "
            "`dry_run`) or as the JSON body (options in the query string). All or nothing: "
            "any invalid row refuses the whole file (400, every bad row listed). A file of "
            "more than IMPORT_MAX_ROWS rows, or over IMPORT_MAX_BYTES, answers 413. While "
            "IMPORT_SLOTS imports run on the server process, another answers 429 "
            "`import_busy` with Retry-After."
        ),
        parameters=[
            OpenApiParameter("mode", OpenApiTypes.STR, enum=list(MODES)),
            OpenApiParameter("dry_run", OpenApiTypes.BOOL),
        ],
        request={
            "application/json": OpenApiTypes.OBJECT,
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "mode": {"type": "string", "enum": list(MODES)},
                    "dry_run": {"type": "boolean"},
                },
                "required": ["file"],
            },
        },
        responses={
            200: ImportReportOutputSerializer,
            400: OpenApiResponse(
                ImportErrorSerializer,
                description="unreadable file, or invalid rows (`invalid_backup`, with `report`)",
            ),
            413: OpenApiResponse(
                ErrorSerializer,
                description="more than IMPORT_MAX_ROWS rows, or larger than IMPORT_MAX_BYTES",
            ),
            429: OpenApiResponse(
                ErrorSerializer,
                description="`import_busy`: the server process runs IMPORT_SLOTS imports "
                "already (Retry-After), or `throttled`",
            ),
        },
    )
    def post(self, request):
        limit = settings.IMPORT_MAX_BYTES
        declared = request.META.get("CONTENT_LENGTH")
        if declared and declared.isdigit() and int(declared) > limit + _MULTIPART_SLACK:
            raise PayloadTooLarge(_too_large_message(limit))
        with self._unless_busy(IMPORT_SLOTS_OF_PROCESS.hold) as slot:

            def progress(step: str, done: int, total: int) -> None:
                if step == "transactions":  # the long part: others' Retry-After follows it
                    slot.progress(done, total)

            return self._import(request, limit=limit, progress=progress)

    def idempotency_body(self, request) -> Iterator[bytes]:
        """The body as the parsers stored it (a temporary file past 1 MB), never whole in
        memory: the JSON body, or the multipart fields and then the file."""
        data = request.data
        if isinstance(data, _BodyFile):
            files = [data.file]
        else:
            for key in sorted(set(data) - set(request.FILES)):
                yield f"{key}={data.getlist(key)!r}\0".encode()
            files = [request.FILES[key] for key in sorted(request.FILES)]
        for file in files:
            file.seek(0)
            while block := file.read(_COPY_BLOCK):
                yield block
            file.seek(0)

    def check_throttles(self, request):
        # A busy answer first, so that waiting for a slot does not spend the backup budget.
        if request.method == "POST":
            with self._unless_busy(contextlib.nullcontext):
                IMPORT_SLOTS_OF_PROCESS.check()
        super().check_throttles(request)

    @contextlib.contextmanager
    def _unless_busy(self, context):
        """`context()`, or, when no slot is free, the busy answer after the body is read and
        dropped: a server that closes the connection while the client still sends its file
        leaves the client a broken pipe instead of the 429 (a discarded body costs no memory)."""
        try:
            with context() as value:
                yield value
        except SlotsBusy:
            body = self.request._request
            if not getattr(body, "_read_started", True):
                while body.read(_COPY_BLOCK):
                    pass
            raise

    def _import(self, request, *, limit: int, progress):
        body = request.data
        options = dict(request.query_params.items())
        if isinstance(body, _BodyFile):
            file = body.file
        elif "file" in request.FILES:
            file = request.FILES["file"]  # Django closes it at the end of the request
            if file.size > limit:
                raise PayloadTooLarge(_too_large_message(limit))
            options.update({key: body[key] for key in ("mode", "dry_run") if key in body})
        else:
            raise exceptions.ValidationError(
                {"file": ["Send the backup as the JSON body or as the multipart field `file`."]}
            )
        with file:
            params = ImportOptionsInputSerializer(data=options)
            params.is_valid(raise_exception=True)
            try:
                options = {"time_zone": request.user.time_zone, **params.validated_data}
                report = backup_import(
                    ledger=request.ledger,
                    created_by=request.user,
                    file=file,
                    progress=progress,
                    **options,
                )
            except BackupTooLarge as exc:
                raise PayloadTooLarge(exc.message) from exc
            except BackupRowsInvalid as exc:
                body = error_body(exc.code, exc.message, exc.fields)
                body["error"]["report"] = ImportReportOutputSerializer(exc.report.as_dict()).data
                return Response(body, status=status.HTTP_400_BAD_REQUEST)
            except BackupError as exc:
                return Response(
                    error_body(exc.code, exc.message, exc.fields),
                    status=status.HTTP_400_BAD_REQUEST,
                )
        return Response(ImportReportOutputSerializer(report.as_dict()).data)


def _too_large_message(limit: int) -> str:
    return f"The file is larger than the import limit of {limit:,} bytes (IMPORT_MAX_BYTES)."
