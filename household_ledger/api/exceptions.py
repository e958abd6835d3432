"""One JSON error format for the whole API.

Every error answers::

    {"error": {"code": "validation_error", "message": "…", "fields": {"amount": ["…"]}}}

`fields` is present only when specific input fields are at fault.

Database errors say what happened: the database cannot be reached (`OperationalError`,
`InterfaceError`) → 503 with Retry-After; a value it cannot store (`DataError`) → 400; a
constraint of the models refused the row (`IntegrityError`) → 400 naming the constraint's
fields; anything else is a bug → 500, logged with its traceback.
"""

import functools
import logging
import sys

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.db.models import CheckConstraint, Q, UniqueConstraint
from django.http import Http404, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from rest_framework import exceptions, status
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)
# Where Django itself logs a crash (its handler's logger), so one place collects them.
request_logger = logging.getLogger("django.request")


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable. Try again shortly."
    default_code = "service_unavailable"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


# Seconds a client should wait before retrying after a 503 (a database failover or restart).
RETRY_AFTER_UNAVAILABLE = 5


def error_body(code, message, fields=None):
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def _flatten_message(detail):
    """The first human-readable message in a DRF error detail tree."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            inner = _flatten_message(value)
            return inner if key in ("non_field_errors", "detail") else f"{key}: {inner}"
        return "Invalid input."
    if isinstance(detail, list):
        return _flatten_message(detail[0]) if detail else "Invalid input."
    return str(detail)


def _code_of(exc):
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return exc.default_code


# The owner of a row is never the client's input, so an error does not name it.
_NOT_INPUT = {"user", "ledger"}
UNIQUE_MESSAGE = "Another row already has this value."
CHECK_MESSAGE = "This value is not allowed."
DATA_MESSAGE = (
    "A value cannot be stored: text with a NUL (\\u0000) character, or a number or date out "
    "of range."
)


def _condition_fields(condition) -> list[str]:
    fields = []
    for child in condition.children:
        if isinstance(child, Q):
            fields += _condition_fields(child)
        else:
            fields.append(child[0].split("__")[0])
    return fields


@functools.cache
def constraint_fields() -> dict[str, tuple[list[str], str]]:
    """Constraint name → (the fields it is about, the message), from every model's Meta."""
    found = {}
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            if isinstance(constraint, UniqueConstraint):
                names, message = list(constraint.fields), UNIQUE_MESSAGE
            elif isinstance(constraint, CheckConstraint):
                names, message = _condition_fields(constraint.condition), CHECK_MESSAGE
            else:
                continue
            fields = [name for name in dict.fromkeys(names) if name not in _NOT_INPUT]
            found[constraint.name] = (fields or names, message)
    return found


def _known_constraint(exc: IntegrityError) -> tuple[list[str], str] | None:
    diag = getattr(exc.__cause__, "diag", None)
    return constraint_fields().get(getattr(diag, "constraint_name", None) or "")


def _database_error(exc):
    """The API error a database error stands for, or None: a bug, answered 500 and logged."""
    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s", exc.__class__.__name__)
        return ServiceUnavailable("The database is unavailable. Try again shortly.")
    if isinstance(exc, DataError):
        logger.info("data error answered as 400: %s", exc.__class__.__name__)
        return exceptions.ValidationError({"non_field_errors": [DATA_MESSAGE]})
    if isinstance(exc, IntegrityError):
        known = _known_constraint(exc)
        if known is not None:
            fields, message = known
            logger.info("constraint answered as 400: %s", fields)
            return exceptions.ValidationError({field: [message] for field in fields})
    return None


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: map every known failure to the one format."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, OperationalError | InterfaceError | DataError | IntegrityError):
        exc = _database_error(exc) or exc
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = {k: v for k, v in detail.items() if k != "non_field_errors"}
        body = error_body("validation_error", _flatten_message(detail), fields or None)
        if "non_field_errors" in detail and fields:
            body["error"]["non_field_errors"] = detail["non_field_errors"]
    else:
        body = error_body(_code_of(exc), _flatten_message(exc.detail))
    response.data = body
    if response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        response.setdefault("Retry-After", str(RETRY_AFTER_UNAVAILABLE))
    return response


def json_error_response(status_code, code, message):
    return JsonResponse(error_body(code, message), status=status_code)


def database_unavailable_response():
    response = json_error_response(
        503, "service_unavailable", "The database is unavailable. Try again shortly."
    )
    response["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
    return response


# Django-level handlers, for errors raised outside DRF views (unknown URLs, crashes).
def handler400(request, exception=None):
    if isinstance(exception, RequestDataTooBig):  # Django's own DATA_UPLOAD_MAX_MEMORY_SIZE
        return json_error_response(413, "payload_too_large", "The request body is too large.")
    return json_error_response(400, "bad_request", "The request could not be understood.")


def handler403(request, exception=None):
    return json_error_response(403, "permission_denied", "You do not have permission.")


def handler404(request, exception=None):
    return json_error_response(404, "not_found", "Not found.")


def unmatched(request, path=""):
    """The last route: a path no other route matches is the JSON 404, with DEBUG on too
    (Django's own answer there is its HTML debug page). APPEND_SLASH still redirects `/admin`."""
    if settings.APPEND_SLASH and not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not unmatched:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return handler404(request)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW (only the admin's forms use CSRF; the API is token-only)."""
    return json_error_response(403, "csrf_failed", f"CSRF verification failed: {reason}")


def crash_response(exc):
    """The answer to an unhandled exception: a database that is down or restarting, wherever
    it surfaced (a middleware, the session, the admin), is a 503; anything else the JSON 500."""
    if isinstance(exc, OperationalError | InterfaceError):
        return database_unavailable_response()
    return json_error_response(500, "server_error", "An unexpected error occurred.")


def handler500(request):
    # Called while the exception is being handled.
    return crash_response(sys.exc_info()[1])


class JsonServerErrorMiddleware:
    """With DEBUG on, Django answers a crash with its HTML (or text) debug page: API paths get
    the JSON 500 instead, logged with its traceback as Django would. The admin, an HTML app,
    keeps the debug page. With DEBUG off `handler500` already answers JSON."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not settings.DEBUG or request.path_info.startswith("/admin/"):
            return None
        if isinstance(exception, Http404 | PermissionDenied | RequestDataTooBig):
            return None  # Django's own 4xx handling (its handlers answer JSON)
        request_logger.error(
            "Internal Server Error: %s",
            request.path,
            exc_info=exception,
            extra={"status_code": 500, "request": request},
        )
        return crash_response(exception)


__all__ = [
    "JsonServerErrorMiddleware",
    "csrf_failure",
    "RequestTooLarge",
    "ServiceUnavailable",
    "error_body",
    "exception_handler",
    "handler400",
    "handler403",
    "handler404",
    "handler500",
    "unmatched",
]
