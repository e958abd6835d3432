"""A full `/sync` snapshot walked page by page, with the server workers' memory meanwhile.

Issue 22: a full snapshot of a large ledger comes in pages of at most `limit` rows, so what a
worker holds for it is bounded by the page size, not by the ledger's size. `walk` follows
`has_more` from `since=0` to the end, checks that every transaction arrived exactly once, and
reports the pages, the time, the workers' peak RSS and how far it rose above what it was
before: within the allowance docs/reliability.md#memory gives a worker for ordinary requests,
and under the worker's bound.
"""

import json
import time
import urllib.request

from bench.worker_memory import REQUEST_ALLOWANCE_MB, WORKER_BOUND_MB, Sampler


def walk(*, base: str, token: str, master_pid: int, limit: int, expected: int) -> dict:
    """Fetch every page of `since=0`; `expected` is the ledger's transaction count."""
    sampler = Sampler(master_pid, every=0.02)
    before = sampler.sample()
    sampler.start()
    since, pages, seen, slowest, largest = 0, 0, set(), 0.0, 0
    started = time.perf_counter()
    try:
        while True:
            request = urllib.request.Request(  # noqa: S310 (the bench's own loopback server)
                f"{base}/sync?since={since}&limit={limit}",
                headers={"Authorization": f"Bearer {token}"},
            )
            page_started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                raw = response.read()
            slowest = max(slowest, time.perf_counter() - page_started)
            largest = max(largest, len(raw))
            page = json.loads(raw)
            pages += 1
            ids = [row["id"] for row in page["transactions"]]
            if seen.intersection(ids):
                raise SystemExit(f"sync snapshot: a transaction came twice (page {pages})")
            seen.update(ids)
            since = page["revision"]
            if not page["has_more"]:
                break
    finally:
        sampler.stop.set()
        sampler.join()
    growth = max(
        ((peak - before.get(pid, peak)) / 2**20 for pid, peak in sampler.peaks.items()),
        default=0.0,
    )
    return {
        "limit": limit,
        "pages": pages,
        "transactions": len(seen),
        "complete": len(seen) == expected,
        "seconds": round(time.perf_counter() - started, 2),
        "slowest_page_ms": round(slowest * 1000, 1),
        "largest_page_mb": round(largest / 2**20, 2),
        "worker_rss_mb": round(max(before.values(), default=0) / 2**20, 1),
        "worker_growth_mb": round(growth, 1),
        "worker_peak_mb": round(max(sampler.peaks.values(), default=0) / 2**20, 1),
    }


def within_bound(result: dict) -> bool:
    return (
        result["complete"]
        and result["worker_growth_mb"] <= REQUEST_ALLOWANCE_MB
        and result["worker_peak_mb"] <= WORKER_BOUND_MB
    )


def describe(label: str, result: dict) -> str:
    return (
        f"{'✓' if within_bound(result) else '✗'} {label:4} sync snapshot limit={result['limit']:<5}"
        f" {result['pages']:3d} pages, {result['transactions']:,} transactions"
        f"{'' if result['complete'] else ' (INCOMPLETE)'} in {result['seconds']:.1f} s"
        f" (slowest page {result['slowest_page_ms']:.0f} ms, largest"
        f" {result['largest_page_mb']:.1f} MB); worker RSS {result['worker_rss_mb']:.0f} MB before,"
        f" peak {result['worker_peak_mb']:.0f} MB (bound {WORKER_BOUND_MB}):"
        f" +{result['worker_growth_mb']:.1f} MB at most (allowance {REQUEST_ALLOWANCE_MB})"
    )
