"""API rate limits (DRF throttles) kept in the shared Redis cache.

Two classes are on for every API view (`DEFAULT_THROTTLE_CLASSES`):

- `UserRateThrottle` — scope `user`: every authenticated user's requests (anonymous ones by
  client IP), `THROTTLE_RATE_USER`.
- `ScopedRateThrottle` — views that set `throttle_scope` get a stricter, separate budget:
  `backup` (`/backup/export`, `/backup/import`, per user) and `webhook` (`/auth/webhook`,
  anonymous, per client IP).

A throttled request answers 429 in the API's error format with a `Retry-After` header.

The rates are read at request time from `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` (DRF's own
classes freeze them at import), so `override_settings` works in tests. Throttles fail open: if
the cache cannot be read or written (Redis down), the request is allowed and a warning is
logged — by `household_ledger.cache.FaultTolerantRedisCache`, or here for any other backend.
"""

import logging

from rest_framework import throttling
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)


class _FailOpenMixin:
    def get_rate(self):
        # Read the settings now, not at import time (DRF's THROTTLE_RATES class attribute).
        self.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        return super().get_rate()

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

    def wait(self):
        # DRF answers None (no Retry-After) when the history is over the limit, e.g. after the
        # rate was lowered; the client must always learn when to come back.
        wait = super().wait()
        if wait is None:
            oldest = self.history[-1] if self.history else self.now
            wait = max(self.duration - (self.now - oldest), 1)
        return wait


class UserRateThrottle(_FailOpenMixin, throttling.UserRateThrottle):
    """Scope `user`: per authenticated user, anonymous requests per client IP."""

    scope = "user"


class ScopedRateThrottle(_FailOpenMixin, throttling.ScopedRateThrottle):
    """Scopes `backup` and `webhook`: views opt in with `throttle_scope = "…"`."""
