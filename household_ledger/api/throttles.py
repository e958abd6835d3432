"""API rate limits (DRF throttles) kept in the shared Redis cache.

Two classes are on for every API view (`DEFAULT_THROTTLE_CLASSES`):

- `UserRateThrottle` — scope `user`: every authenticated user's requests (anonymous ones by
  client IP), `THROTTLE_RATE_USER`.
- `ScopedRateThrottle` — views that set `throttle_scope` get a stricter, separate budget:
  `backup` (`/backup/export`, `/backup/import`, per user) and `webhook` (`/auth/webhook`,
  anonymous, per client IP).

A throttled request answers 429 in the API's error format with a `Retry-After` header.

Counting: fixed windows (a minute for `600/min`, aligned to the clock), one counter per
window — one pipelined Redis round trip per request (INCR + EXPIRE) instead of DRF's read and
rewrite of a list of every request time in the window. `Retry-After` is exact: the seconds
left in the window. The price is that a client can spend two budgets in a short burst
across a window boundary, which these limits (abuse protection, not billing) accept. A
refused request gives its hit back, so retrying while throttled does not use up the next
requests' budget.

The rates are read at request time from `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` (DRF's own
classes freeze them at import), so `override_settings` works in tests. Throttles fail open: if
the cache cannot be read or written (Redis down), the request is allowed and a warning is
logged — by `household_ledger.cache.FaultTolerantRedisCache`, or here for any other failure.
"""

import logging
import math

from django.core.cache import cache
from rest_framework import throttling
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)


def _count_hit(key: str, timeout: int) -> int | None:
    """Hits in the counter `key`, this one included; None when the cache is unavailable."""
    count_hit = getattr(cache, "count_hit", None)
    if count_hit is not None:  # the Redis cache: one round trip
        return count_hit(key, timeout)
    cache.add(key, 0, timeout)  # any other backend (LocMem in `make run` without Redis)
    return cache.incr(key)


def _uncount_hit(key: str) -> None:
    uncount_hit = getattr(cache, "uncount_hit", None)
    if uncount_hit is not None:
        uncount_hit(key)
    else:
        cache.decr(key)


class _FixedWindowRateThrottle(throttling.SimpleRateThrottle):
    """DRF's rate throttle with its counting replaced (see the module docstring).

    It comes after DRF's User/Scoped classes in the bases below, so theirs decide the cache
    key and (Scoped) the scope and rate, and their `super().allow_request` lands here.
    """

    def get_rate(self):
        # Read the settings now, not at import time (DRF's THROTTLE_RATES class attribute).
        self.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        return super().get_rate()

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.seconds_left = (window + 1) * self.duration - self.now
        window_key = f"{self.key}:{window}"
        count = _count_hit(window_key, self.duration + 1)
        if count is None:
            return True  # the cache is down: fail open (the cache logged it)
        if count <= self.num_requests:
            return True
        _uncount_hit(window_key)
        return False

    def wait(self):
        """Seconds until the window ends (at least 1): the Retry-After."""
        return max(math.ceil(self.seconds_left), 1)


class _FailOpenMixin:
    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # a broken cache must not take the API down
            logger.warning(
                "throttle %s failed open: %s",
                getattr(self, "scope", None) or self.__class__.__name__,
                exc.__class__.__name__,
            )
            return True


class UserRateThrottle(_FailOpenMixin, throttling.UserRateThrottle, _FixedWindowRateThrottle):
    """Scope `user`: per authenticated user, anonymous requests per client IP."""

    scope = "user"


class ScopedRateThrottle(_FailOpenMixin, throttling.ScopedRateThrottle, _FixedWindowRateThrottle):
    """Scopes `backup` and `webhook`: views opt in with `throttle_scope = "…"`."""
