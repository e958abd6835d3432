"""Benchmark-only settings: the product's settings plus a plain DRF "hello" view (the floor)."""

from household_ledger.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
