"""Optimistic concurrency for detail views: `ETag` out, `If-Match` in, 412 on a lost update.

Policy (README, "Reliability and security"): a client that sends `If-Match` with the ETag it
read gets 412 `precondition_failed` when the object changed in between, and nothing is written;
a client that sends no `If-Match` gets last-write-wins. Writes to one object are serialized by
a row lock (`SELECT … FOR UPDATE` inside the request's transaction), so the check and the write
are atomic: of two clients updating with the same ETag, exactly one succeeds.

The ETag is derived from the row's `updated_at` (every write changes it).
"""

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, status
from rest_framework.generics import get_object_or_404

from household_ledger.api.schema import error_response

UNSAFE_METHODS = ("PUT", "PATCH", "DELETE")


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "The object was changed since you read it (If-Match does not match its ETag). "
        "Read it again and retry."
    )
    default_code = "precondition_failed"


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


def _matches(header: str, etag: str) -> bool:
    candidates = [part.strip() for part in header.split(",")]
    weak_stripped = {c[2:] if c.startswith("W/") else c for c in candidates}
    return "*" in weak_stripped or etag in weak_stripped


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
            # GenericAPIView.get_object(), with the row locked for the rest of the request.
            queryset = self.filter_queryset(self.get_queryset()).select_for_update(of=("self",))
            lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
            obj = get_object_or_404(queryset, **{self.lookup_field: self.kwargs[lookup_url_kwarg]})
            self.check_object_permissions(self.request, obj)
            header = self.request.headers.get("If-Match")
            if header and not _matches(header, etag_for(obj)):
                raise PreconditionFailed()
        self._etag_object = obj
        return obj

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        obj = getattr(self, "_etag_object", None)
        if obj is not None and response.status_code == status.HTTP_200_OK:
            # the service saved this same instance: its updated_at is the new one
            response["ETag"] = etag_for(obj)
        return response


PRECONDITION_FAILED = error_response(
    "If-Match does not match the object's current ETag: nothing was written.",
    example={"error": {"code": "precondition_failed",
                       "message": PreconditionFailed.default_detail}},
)
