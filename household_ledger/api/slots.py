"""A per-process limit on concurrent heavy requests: at most N at once, the rest turned away.

The backup import holds memory for its whole run (docs/reliability.md#memory). A gunicorn
worker serves several requests at once (threads), so without a limit its memory would grow
with the number of imports that happen to arrive together. A `ProcessSlots` lets at most
`size` of them run in this process; another is answered at once with 429 and a Retry-After
saying when a slot is likely free (from the running requests' own progress), rather than
queued on a thread that other users' requests need.
"""

import math
import threading
import time
from contextlib import contextmanager

from django.conf import settings
from rest_framework import exceptions, status

# Retry-After bounds (seconds): a busy slot frees within an import's run.
RETRY_AFTER_MIN = 2
RETRY_AFTER_MAX = 60
RETRY_AFTER_UNKNOWN = 10


class SlotsBusy(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "import_busy"
    default_detail = "Another import is running on this server. Try again shortly."

    def __init__(self, *, wait: int, detail=None, code=None):
        super().__init__(detail, code)
        self.wait = wait  # DRF's handler sends it as Retry-After


class Slot:
    """One running holder: it reports its progress so others know how long to wait."""

    def __init__(self):
        self.started = time.monotonic()
        self.fraction = 0.0

    def progress(self, done: int, total: int) -> None:
        self.fraction = done / total if total else 0.0

    def seconds_left(self) -> float | None:
        if self.fraction <= 0:
            return None
        elapsed = time.monotonic() - self.started
        return elapsed * (1 - self.fraction) / self.fraction


class ProcessSlots:
    def __init__(self, *, size_setting: str, busy: type[SlotsBusy] = SlotsBusy):
        self.size_setting = size_setting  # read at each request: override_settings works
        self.busy = busy
        self._lock = threading.Lock()
        self._holders: list[Slot] = []

    @property
    def size(self) -> int:
        return max(1, getattr(settings, self.size_setting))

    def check(self) -> None:
        """Raise the busy answer when every slot is taken (before the request's work)."""
        with self._lock:
            if len(self._holders) >= self.size:
                raise self.busy(wait=self._retry_after())

    @contextmanager
    def hold(self):
        """Take a slot for the block (or raise the busy answer); yields the `Slot`."""
        slot = Slot()
        with self._lock:
            if len(self._holders) >= self.size:
                raise self.busy(wait=self._retry_after())
            self._holders.append(slot)
        try:
            yield slot
        finally:
            with self._lock:
                self._holders.remove(slot)

    def _retry_after(self) -> int:
        estimates = [s for s in (h.seconds_left() for h in self._holders) if s is not None]
        seconds = min(estimates) if estimates else RETRY_AFTER_UNKNOWN
        return min(max(math.ceil(seconds), RETRY_AFTER_MIN), RETRY_AFTER_MAX)
