"""The shared cache (Redis), used by authentication only as an optimisation.

If Redis is down, authentication must keep working (PEM keys need no cache; a JWKS is then
fetched per request and `last_seen` is not written), so every call here degrades instead of
raising.
"""

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)


def _failed(operation: str, exc: Exception) -> None:
    logger.warning("shared cache unavailable during %s: %s", operation, exc.__class__.__name__)


def cache_get(key: str):
    try:
        return cache.get(key)
    except Exception as exc:  # redis-py raises several unrelated types
        _failed("get", exc)
        return None


def cache_set(key: str, value, timeout: int) -> None:
    try:
        cache.set(key, value, timeout)
    except Exception as exc:
        _failed("set", exc)


def cache_add(key: str, value, timeout: int) -> bool:
    """True if the key was absent and is now set; False if present or the cache is down."""
    try:
        return bool(cache.add(key, value, timeout))
    except Exception as exc:
        _failed("add", exc)
        return False
