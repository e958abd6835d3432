"""gunicorn configuration: the image's default command is
`gunicorn -c gunicorn.conf.py household_ledger.wsgi:application`.

Every knob comes from the environment (documented in `.env.example`). Logs are JSON lines on
stderr, like the application's. On SIGTERM gunicorn stops accepting, lets running requests finish
for up to GUNICORN_GRACEFUL_TIMEOUT seconds and exits 0; Kubernetes' terminationGracePeriodSeconds
must be longer than that (k8s/api.yaml).
"""

import os
import shutil
import tempfile


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
