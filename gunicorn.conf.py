"""gunicorn configuration: the image's default command is
`gunicorn -c gunicorn.conf.py household_ledger.wsgi:application`.

Every knob comes from the environment (documented in `.env.example`). Logs are JSON lines on
stderr, like the application's. On SIGTERM gunicorn stops accepting, lets running requests finish
for up to GUNICORN_GRACEFUL_TIMEOUT seconds and exits 0; Kubernetes' terminationGracePeriodSeconds
must be longer than that (k8s/api.yaml).
"""

import json
import os
import shutil
import tempfile

from gunicorn import util


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# --- Sockets and processes ------------------------------------------------------------------
bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_int('PORT', 8000)}"
# CPU counts inside containers report the host's cores, so the default is fixed, not derived.
workers = _int("GUNICORN_WORKERS", 2)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
# Recycle workers now and then so a slow leak never takes a pod down. Not too often: a new
# worker imports the whole application (about a second of CPU on 2 cores), and at 1,000 the
# benchmark saw a restart every few seconds and its p99 in seconds (docs/performance.md).
max_requests = _int("GUNICORN_MAX_REQUESTS", 50000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 5000)

# --- Timeouts and graceful shutdown ---------------------------------------------------------
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# The heartbeat file on tmpfs, never on a (possibly read-only, possibly slow) disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
# No runtime control socket: nothing uses it and the root filesystem is read-only in Kubernetes.
control_socket_disable = True

# --- The HTTP edge: limits, gunicorn's own error answers, closing after a large body ------
# gunicorn refuses some requests before the application sees them: a request line over
# limit_request_line (414), a header over limit_request_field_size or more than
# limit_request_fields of them (431), a malformed request line or header, a Content-Length that
# is not one number (400). The request line gets gunicorn's maximum (its default is 4,094
# bytes). A header line gets room above the application's own checks, so that those answer
# first: a session token over 8 KiB is the application's 401 `token_invalid`
# (accounts.clerk.MAX_TOKEN_BYTES), not a 431.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 16 * 1024

# What gunicorn answers itself is the API's error format, {"error": {"code", "message"}} (as
# household_ledger.api.exceptions.error_body builds it; written out here because gunicorn's
# master loads this file before Django), not its HTML page. Every gunicorn worker
# writes those answers through this one function, gunicorn.util.write_error (called by
# Worker.handle_error with the status, reason and message it chose), so it is replaced here;
# status codes and `Connection: close` stay gunicorn's. household_ledger/tests/
# test_hostile_input.py checks each answer against a running gunicorn, so an upgrade that
# stops calling it fails there.
_ERROR_CODES = {
    400: "bad_request",
    403: "permission_denied",
    414: "uri_too_long",
    417: "expectation_failed",
    431: "request_header_fields_too_large",
    500: "server_error",
    501: "not_implemented",
}
_ERROR_MESSAGES = {
    414: f"The request line (method, path and query) is longer than {limit_request_line} bytes.",
    431: (
        f"A request header is longer than {limit_request_field_size} bytes, or there are more "
        f"than {limit_request_fields} headers."
    ),
    500: "An unexpected error occurred.",
}


def write_json_error(sock, status_int, reason, mesg):
    code = _ERROR_CODES.get(status_int) or reason.lower().replace(" ", "_")
    message = _ERROR_MESSAGES.get(status_int) or mesg or reason
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


util.write_error = write_json_error

# Before it reuses a kept-alive connection, gunicorn reads and discards what the application
# left unread of the body, but at most 64 KiB (gunicorn.http.parser._DRAIN_MAX_BYTES, within a
# few seconds); past that it closes the connection. An answer given without reading the body
# (the early 413 of household_ledger.limits, a 401 before the body is parsed) would then have
# said `Connection: keep-alive` and the client's next request on it would fail. A request whose
# body may not be drained is therefore told `Connection: close` from the start: a body of
# 64 KiB or more, or a chunked one (Django does not read those under WSGI). Only large uploads
# (a backup import) pay a new connection for their next request.
DRAIN_MAX_BYTES = 64 * 1024


def pre_request(worker, req):
    worker.log.debug("%s %s", req.method, req.path)  # gunicorn's own pre_request
    for name, value in req.headers:
        # gunicorn has checked the framing: one Content-Length, digits only.
        if name == "TRANSFER-ENCODING" or (
            name == "CONTENT-LENGTH" and int(value) >= DRAIN_MAX_BYTES
        ):
            req.force_close()


# --- Logs: JSON lines on stderr -------------------------------------------------------------
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Path without the query string; the request id as returned by the application.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    # The application's formatter (household_ledger/request_log.py): same fields, UTC times.
    "formatters": {"json": {"()": "household_ledger.request_log.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "json",
        }
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": "INFO"},
}

# --- Prometheus across worker processes -----------------------------------------------------
# Each worker keeps its own counters; in multiprocess mode prometheus_client writes them to
# files in this directory and /metrics sums them (household_ledger/metrics.py). Must be set
# before the workers import the application, which is why it lives here.
os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), "hl-prometheus")
)


def on_starting(server):
    """Start from an empty metrics directory: files of a previous run would be summed in."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Warm the worker up before it takes requests, then freeze what it loaded.

    - Import the URL configuration (every view, serializer and the schema machinery): done
      lazily, it made each worker's first request take ~0.7 s (measured), a p99 stall right
      after every start or restart.
    - Hide the loaded objects from the cyclic garbage collector: a worker holds a few hundred
      thousand long-lived objects and every full collection walked them all (pauses of tens
      of ms, p99 several times p50 in bench.http_bench). Code and configuration live as long as
      the process, so they are never garbage.
    """
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 — the import is the point
    gc.freeze()
