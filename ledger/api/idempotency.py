"""`Idempotency-Key` on writes: a retry gets the first answer back, with no second write.

Any POST/PUT/PATCH/DELETE may carry the header. The request then runs in one database
transaction that also stores its answer (`ledger.services.idempotency`); a retry with the same
key and the same request is answered from it (`Idempotent-Replayed: true`), the same key with
another request is a 422, and a retry while the first still runs is a 409. Answers of 5xx are
not stored (their transaction is rolled back), so a retry after an outage runs again.
"""

from collections.abc import Iterable

from django.db import transaction
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, status

from ledger.services.idempotency import (
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    idempotency_claim,
    idempotency_fingerprint,
    idempotency_store,
)

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
MAX_KEY_LENGTH = 255

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="A unique key (e.g. a UUID) per intended write: a retry with the same key and "
    "body gets the first answer back without writing again (24 h).",
)


class IdempotencyKeyInUse(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed. Retry later."
    default_code = "idempotency_key_in_use"


class IdempotencyKeyMismatch(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used for a different request."
    default_code = "idempotency_key_reused"


class _Replay(Exception):
    def __init__(self, record):
        self.record = record


class IdempotentWriteMixin:
    """For a view with writes; must come before the other conditional-request mixins."""

    _idempotency = None  # (key, fingerprint) once claimed

    def dispatch(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if request.method not in WRITE_METHODS or not key:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)
            if self._idempotency is not None:
                if response.status_code >= 500:
                    transaction.set_rollback(True)
                else:
                    self._store(request, response)
        return response

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        key = request.headers.get("Idempotency-Key")
        if request.method not in WRITE_METHODS or not key:
            return
        if getattr(self, request.method.lower(), None) is None:
            return  # not a method of this route: its 405 comes first, no key is claimed
        if len(key) > MAX_KEY_LENGTH:
            raise exceptions.ValidationError(
                {"Idempotency-Key": [f"At most {MAX_KEY_LENGTH} characters."]}
            )
        fingerprint = idempotency_fingerprint(
            method=request.method,
            path=request.get_full_path(),
            body=self.idempotency_body(request),
        )
        try:
            record = idempotency_claim(user=request.user, key=key, fingerprint=fingerprint)
        except IdempotencyKeyInProgress:
            raise IdempotencyKeyInUse from None
        except IdempotencyKeyReused:
            raise IdempotencyKeyMismatch from None
        if record is not None:
            raise _Replay(record)
        self._idempotency = (key, fingerprint)

    def idempotency_body(self, request) -> Iterable[bytes]:
        """The request body in blocks, for the fingerprint. A view whose body is too large to
        read into memory (the backup import) hashes what its parser spooled instead."""
        return [request._request.body]

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            record = exc.record
            response = HttpResponse(
                bytes(record.body), status=record.status_code, content_type=record.content_type
            )
            response["Idempotent-Replayed"] = "true"
            return response
        return super().handle_exception(exc)

    def _store(self, request, response) -> None:
        if hasattr(response, "render"):
            response.render()
        key, fingerprint = self._idempotency
        idempotency_store(
            user=request.user,
            key=key,
            fingerprint=fingerprint,
            status_code=response.status_code,
            content_type=response.get("Content-Type", ""),
            body=response.content,
        )
