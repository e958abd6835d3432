"""The resident memory (RSS) of a gunicorn master's workers, sampled in a thread."""

import threading
import time

import psutil

# docs/reliability.md#memory: a worker stays under its baseline plus IMPORT_SLOTS imports of
# IMPORT_MAX_ROWS rows plus what its other threads' requests hold; with the defaults (1 slot),
# this many MB, of which this many are the allowance for ordinary requests (lists are
# paginated, `/sync` pages are bounded, exports stream).
WORKER_BOUND_MB = 360
REQUEST_ALLOWANCE_MB = 60


class Sampler(threading.Thread):
    """The RSS of every worker of the gunicorn `master`, every `every` seconds."""

    def __init__(self, master: int, every: float = 0.05):
        super().__init__(daemon=True)
        self.master = psutil.Process(master)
        self.every = every
        self.peaks: dict[int, int] = {}
        self.peak_total = 0
        self.stop = threading.Event()

    def sample(self) -> dict[int, int]:
        found = {}
        for worker in self.master.children():
            try:
                found[worker.pid] = worker.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return found

    def run(self):
        while not self.stop.is_set():
            now = self.sample()
            for pid, rss in now.items():
                self.peaks[pid] = max(self.peaks.get(pid, 0), rss)
            self.peak_total = max(self.peak_total, sum(now.values()))
            time.sleep(self.every)
