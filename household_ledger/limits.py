"""Request body size limit, answered as the API's JSON 413 before the body is read.

Django checks `DATA_UPLOAD_MAX_MEMORY_SIZE` when `request.body` is read (DRF's JSON parser
reads it) and raises `RequestDataTooBig`, which the exception handlers in
`household_ledger.api.exceptions` answer as a JSON 413. This middleware refuses a declared
`Content-Length` above the limit earlier, before the view runs and before any byte is read.

A view may allow a larger body with a `max_body_bytes` attribute. For such a view the
middleware reads the (declared, bounded) body itself, so Django's global check does not refuse
it later — unless the view reads the body as a stream itself (`streams_body = True`: the backup
import spools it to a file, so a large body is never held in memory). Bodies without
`Content-Length` (chunked) are not read at all under WSGI.
"""

from django.conf import settings

from household_ledger.api.exceptions import json_error_response


def body_limit_for(view_func) -> int | None:
    """The body size limit of a view: its `max_body_bytes` (a number, or a function answering
    one, read at request time), else DATA_UPLOAD_MAX_MEMORY_SIZE."""
    view_class = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
    for owner in (view_func, view_class):
        limit = getattr(owner, "max_body_bytes", None)
        if callable(limit):
            limit = limit()
        if limit is not None:
            return int(limit)
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _streams_body(view_func) -> bool:
    view_class = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
    return bool(getattr(view_class, "streams_body", False))


def too_large_response(limit: int | None):
    message = "The request body is too large."
    if limit is not None:
        message = f"The request body is too large (at most {limit} bytes)."
    return json_error_response(413, "payload_too_large", message)


def _declared_length(request) -> int | None:
    """The Content-Length as a number (0 when absent), None when it is not a number."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    return length if length >= 0 else None


class ContentLengthMiddleware:
    """Outermost: a Content-Length that is not a number is a 400 JSON error before any other
    middleware reads it (gunicorn refuses such requests itself; other servers may not)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _declared_length(request) is None:
            return json_error_response(400, "bad_request", "Invalid Content-Length header.")
        return self.get_response(request)


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        length = _declared_length(request)
        if length is None:
            return json_error_response(400, "bad_request", "Invalid Content-Length header.")
        limit = body_limit_for(view_func)
        if limit is not None and length > limit:
            return too_large_response(limit)
        if (
            length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            and not request.content_type.startswith("multipart/")
            and not getattr(request, "_read_started", False)
            and not _streams_body(view_func)
        ):
            # Within this view's own limit: read it now, past Django's global check.
            request._body = request.read()
        return None
