"""Prometheus metrics: the protected `/metrics` view and the Celery task counters.

Request latency by view and database query counts come from django-prometheus (its middleware
and its PostgreSQL backend, wired in settings). This module adds Celery task counters fed by
Celery signals, and serves everything at `/metrics` to whoever presents `METRICS_TOKEN` as a
bearer token; without the token the answer is 401 (404 when no token is configured at all).

Processes: gunicorn runs several worker processes and Celery's prefork pool several children,
each with its own counters. With `PROMETHEUS_MULTIPROC_DIR` set (gunicorn.conf.py sets it; the
worker gets it from its environment) prometheus_client writes every process's values to files
there and `/metrics` adds them up, so one scrape sees the whole pod.
"""

import hmac
import logging
import os
import time

import prometheus_client
from celery import signals
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import Counter, Histogram, multiprocess

logger = logging.getLogger(__name__)

CELERY_TASKS = Counter(
    "household_ledger_celery_tasks_total",
    "Celery tasks by task name and outcome (started, succeeded, failed, retried).",
    ["task", "state"],
)
CELERY_TASK_DURATION = Histogram(
    "household_ledger_celery_task_duration_seconds",
    "Run time of Celery tasks by task name.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, float("inf")),
)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def registry() -> prometheus_client.CollectorRegistry:
    if multiprocess_dir():
        collected = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(collected)
        return collected
    return prometheus_client.REGISTRY


def _token_matches(request) -> bool:
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented:
        return False
    return hmac.compare_digest(presented.strip().encode(), settings.METRICS_TOKEN.encode())


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


@never_cache
@require_GET
def metrics_view(request):
    if not settings.METRICS_TOKEN:
        return _error(404, "not_found", "Not found.")
    if not _token_matches(request):
        response = _error(401, "not_authenticated", "A valid metrics token is required.")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(
        prometheus_client.generate_latest(registry()),
        content_type=prometheus_client.CONTENT_TYPE_LATEST,
    )


# --- Celery signals → counters ------------------------------------------------------------------


def _task_name(sender=None, task=None, **_) -> str:
    named = task or sender
    return getattr(named, "name", None) or str(named or "unknown")


_started: dict[str, float] = {}


def on_task_prerun(sender=None, task_id=None, task=None, **kwargs):
    CELERY_TASKS.labels(task=_task_name(sender, task), state="started").inc()
    if task_id:
        _started[task_id] = time.perf_counter()


def on_task_postrun(sender=None, task_id=None, task=None, **kwargs):
    started = _started.pop(task_id, None) if task_id else None
    if started is not None:
        CELERY_TASK_DURATION.labels(task=_task_name(sender, task)).observe(
            time.perf_counter() - started
        )


def on_task_success(sender=None, **kwargs):
    CELERY_TASKS.labels(task=_task_name(sender), state="succeeded").inc()


def on_task_failure(sender=None, **kwargs):
    CELERY_TASKS.labels(task=_task_name(sender), state="failed").inc()


def on_task_retry(sender=None, **kwargs):
    CELERY_TASKS.labels(task=_task_name(sender), state="retried").inc()


def start_worker_metrics_server(**kwargs):
    """In the Celery worker's main process: serve the pool's summed metrics on a port.

    Only when `CELERY_METRICS_PORT` is set. The port is never published outside the cluster
    (no Service or Ingress points at it); Prometheus scrapes the pod directly.
    """
    port = os.environ.get("CELERY_METRICS_PORT")
    if not port:
        return
    prometheus_client.start_http_server(int(port), registry=registry())
    logger.info("celery metrics served", extra={"port": int(port)})


def connect_celery_signals() -> None:
    signals.task_prerun.connect(on_task_prerun, weak=False)
    signals.task_postrun.connect(on_task_postrun, weak=False)
    signals.task_success.connect(on_task_success, weak=False)
    signals.task_failure.connect(on_task_failure, weak=False)
    signals.task_retry.connect(on_task_retry, weak=False)
    signals.worker_ready.connect(start_worker_metrics_server, weak=False)
