"""Kubernetes probes: /healthz (the process answers) and /readyz (its dependencies answer)."""

import logging

import redis
from django.conf import settings
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def check_database() -> str | None:
    """None when PostgreSQL answers `SELECT 1`, else the reason."""
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "not ready"
        logger.warning("readiness: database check failed: %s", exc.__class__.__name__)
        connections["default"].close_if_unusable_or_obsolete()
        return exc.__class__.__name__
    return None


def check_redis() -> str | None:
    """None when Redis answers PING (or is not configured), else the reason."""
    if not settings.REDIS_URL:
        return None
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        logger.warning("readiness: redis check failed: %s", exc.__class__.__name__)
        return exc.__class__.__name__
    return None


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    failures = {
        name: reason
        for name, reason in (("database", check_database()), ("redis", check_redis()))
        if reason
    }
    checks = {
        "database": "ok" if "database" not in failures else "unavailable",
        "redis": ("ok" if settings.REDIS_URL else "not configured")
        if "redis" not in failures
        else "unavailable",
    }
    if failures:
        return JsonResponse(
            {
                "status": "unavailable",
                "checks": checks,
                "error": {
                    "code": "not_ready",
                    "message": "Not ready: " + ", ".join(sorted(failures)) + " unavailable.",
                },
            },
            status=503,
        )
    return JsonResponse({"status": "ok", "checks": checks})
