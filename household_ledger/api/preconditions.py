"""Conditional requests: `If-Match` on writes (412 on a lost update) and `If-None-Match` on
reads (304 when nothing changed).

Reads (`RevisionETagMixin`): list, calendar and stats answers are a function of the ledger's
revision (`ledger.Ledger.revision`, bumped by every write in its transaction), the local date
(projected occurrences and statuses move with it), the time zone and the URL. Their weak ETag is
built from exactly those, so `If-None-Match` is answered 304 with no body and no query beyond
the request's ledger lookup (`ledger.api.scope`), which already read the revision.

Writes (`ConditionalWriteMixin`): optimistic concurrency for detail views.

Policy (docs/api.md, "ETags"): a client that sends `If-Match` with the ETag it
read gets 412 `precondition_failed` when the object changed in between, and nothing is written;
a client that sends no `If-Match` gets last-write-wins. Writes to one object are serialized by
a row lock (`SELECT … FOR UPDATE` inside the request's transaction), so the check and the write
are atomic: of two clients updating with the same ETag, exactly one succeeds.

The ETag is derived from the row's `updated_at` (every write changes it).
"""

import hashlib

from django.db import transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from household_ledger.api.schema import error_response

UNSAFE_METHODS = ("PUT", "PATCH", "DELETE")


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "The object was changed since you read it (If-Match does not match its ETag). "
        "Read it again and retry."
    )
    default_code = "precondition_failed"

    def __init__(self, *, current: dict | None = None):
        super().__init__()
        self.current = current


IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The `ETag` you read. If the object changed since, the answer is 412 and "
    "nothing is written. Without it the last write wins.",
)


def etag_for(instance) -> str:
    return f'"{int(instance.updated_at.timestamp() * 1_000_000):x}"'


def _opaque(etag: str) -> str:
    return etag[2:] if etag.startswith("W/") else etag


def _candidates(header: str) -> set[str]:
    """The tags an If-Match / If-None-Match header lists (`*` for any), compared weakly."""
    return {_opaque(part.strip()) for part in header.split(",")}


def _matches(header: str, etag: str) -> bool:
    """Whether `header` names `etag` (or `*`)."""
    candidates = _candidates(header)
    return "*" in candidates or _opaque(etag) in candidates


class ConditionalWriteMixin:
    """For a GenericViewSet: ETag on detail answers; If-Match checked under a row lock."""

    def dispatch(self, request, *args, **kwargs):
        if request.method in UNSAFE_METHODS:
            # The lock taken in get_object() is held until the write commits.
            with transaction.atomic():
                return super().dispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def get_object(self):
        if self.request.method not in UNSAFE_METHODS:
            obj = super().get_object()
        else:
            # GenericAPIView.get_object(), with the row locked for the rest of the request —
            # after its ledger, the order every writer locks in (no deadlock with the engine).
            ledger = self.request.ledger
            list(
                type(ledger)
                .objects.filter(pk=ledger.pk)
                .select_for_update()
                .values_list("pk", flat=True)
            )
            queryset = self.filter_queryset(self.get_queryset()).select_for_update(of=("self",))
            lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
            obj = get_object_or_404(queryset, **{self.lookup_field: self.kwargs[lookup_url_kwarg]})
            self.check_object_permissions(self.request, obj)
            header = self.request.headers.get("If-Match")
            if header and not _matches(header, etag_for(obj)):
                self._etag_of_current = etag_for(obj)
                raise PreconditionFailed(current=self.render_current(obj))
        self._etag_object = obj
        return obj

    def render_current(self, obj) -> dict | None:
        """The object as a read shows it, sent with a 412 so the client can merge."""
        return None

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, PreconditionFailed) and exc.current is not None:
            response.data["error"]["current"] = exc.current
            response["ETag"] = self._etag_of_current
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        obj = getattr(self, "_etag_object", None)
        if obj is not None and response.status_code == status.HTTP_200_OK:
            # the service saved this same instance: its updated_at is the new one
            response["ETag"] = etag_for(obj)
        return response


PRECONDITION_FAILED = error_response(
    "If-Match does not match the object's current ETag: nothing was written. `error.current` "
    "is the object as it is now (and `ETag` its tag), so the client can merge and retry.",
    example={
        "error": {"code": "precondition_failed", "message": PreconditionFailed.default_detail}
    },
)


IF_NONE_MATCH_PARAMETER = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The `ETag` of an earlier answer to the same URL: 304 with no body if nothing "
    "it shows has changed since.",
)


class _NotModified(Exception):
    pass


def revision_etag(request) -> str:
    """The weak ETag of a read answer: the ledger's revision, today's local date, the zone, the
    ledger, the caller and the full URL (path and query)."""
    zone = timezone.get_current_timezone_name()
    ledger = request.ledger
    scope = f"{ledger.pk}|{request.user.pk}|{zone}|{request.get_full_path()}"
    digest = hashlib.blake2b(scope.encode(), digest_size=8).hexdigest()
    return f'W/"{ledger.revision}.{timezone.localdate().isoformat()}.{digest}"'


class RevisionETagMixin:
    """For a view whose GET answers depend only on the request's ledger data: `ETag` out,
    `If-None-Match` naming the current ETag → 304 before any work. `If-None-Match: *` is a 304
    only when the URL has an answer (RFC 9110 §13.1.2): its path and query are validated
    first, so a bad one is still the 400 naming it. `revision_etag_actions` names the viewset
    actions (None: every GET of the view)."""

    revision_etag_actions: tuple[str, ...] | None = None
    _revision_etag = None
    _any_matches = False

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        actions = self.revision_etag_actions
        action = getattr(self, "action", None)
        if request.method == "GET" and (actions is None or action in actions):
            self._revision_etag = revision_etag(request)
            header = request.headers.get("If-None-Match")
            if header and "*" in _candidates(header):
                self._any_matches = True  # decided once the view has answered
            elif header and _matches(header, self._revision_etag):
                raise _NotModified

    def handle_exception(self, exc):
        if isinstance(exc, _NotModified):
            return Response(status=status.HTTP_304_NOT_MODIFIED)
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        if self._any_matches and response.status_code == status.HTTP_200_OK:
            response = Response(status=status.HTTP_304_NOT_MODIFIED)
        response = super().finalize_response(request, response, *args, **kwargs)
        if self._revision_etag is not None and response.status_code in (200, 304):
            response["ETag"] = self._revision_etag
        return response


NOT_MODIFIED = OpenApiResponse(
    description="Nothing this answer shows changed since the `ETag` sent in `If-None-Match`; "
    "no body."
)
