"""JSON logs with a request id.

`RequestLogMiddleware` takes the request id from `X-Request-ID` (when it is a sane token) or makes
one, returns it in the response header, and logs one line per request: method, path (never the
query string), status, duration and the user id when authenticated. `RequestIdFilter` stamps the
current request id on every log record written while the request runs, whatever the logger.

Nothing here logs headers, bodies or query strings, so tokens, secrets and amounts stay out.
"""

import logging
import re
import time
import uuid
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_user_id: ContextVar[str | None] = ContextVar("user_id", default=None)

logger = logging.getLogger("household_ledger.request")


def current_request_id() -> str | None:
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (and `user_id` once known) to every record; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            # django.request logs 4xx/5xx after the middleware chain has returned: the request
            # it passes along still carries the id.
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or _request_id.get()
        if getattr(record, "user_id", None) is None:
            user_id = _user_id.get()
            if user_id is not None:
                record.user_id = user_id
        return True


class RedactTaskDataFilter(logging.Filter):
    """Celery's task tracer logs each task's arguments and return value; keep only their shape.

    Tasks take ids, but a return value may be a list of amounts: it never reaches the log.
    """

    REDACTED = "<redacted>"
    FIELDS = ("args", "kwargs", "return_value")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("celery.app.trace"):
            if isinstance(record.args, dict):
                record.args = self._redact(record.args)
            data = getattr(record, "data", None)
            if isinstance(data, dict):
                record.data = self._redact(data)
        return True

    def _redact(self, values: dict) -> dict:
        return {k: (self.REDACTED if k in self.FIELDS else v) for k, v in values.items()}


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time, level, logger, message and the record's extra fields."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        kwargs.setdefault("timestamp", False)
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's API
        # ISO 8601 in UTC with milliseconds, whatever the container's local time.
        seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{seconds}.{int(record.msecs):03d}Z"

    def add_fields(self, log_record, record, message_dict):
        super().add_fields(log_record, record, message_dict)
        # django.request attaches the request object; its repr carries the query string.
        request = log_record.get("request")
        if request is not None and not isinstance(request, str):
            log_record["request"] = f"{request.method} {request.path}"


def _request_id_from(request) -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    if _VALID_REQUEST_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def _authenticated_user_id(request) -> str | None:
    # DRF sets the authenticated user on the underlying HttpRequest as well.
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return str(user.pk)
    return None


class RequestLogMiddleware:
    """Outermost middleware: request id in, request id out, one access line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = _request_id_from(request)
        request.request_id = request_id
        id_token = _request_id.set(request_id)
        user_token = _user_id.set(None)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            response[REQUEST_ID_HEADER] = request_id
            user_id = _authenticated_user_id(request)
            _user_id.set(user_id)
            status = response.status_code
            logger.log(
                logging.ERROR if status >= 500 else logging.INFO,
                "%s %s %s",
                request.method,
                request.path,
                status,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "duration_ms": duration_ms,
                    "user_id": user_id,
                    "request_id": request_id,
                },
            )
            return response
        finally:
            _user_id.reset(user_token)
            _request_id.reset(id_token)
