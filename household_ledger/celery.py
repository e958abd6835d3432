"""The Celery application. Tasks live in each app's `tasks.py` and are autodiscovered."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "household_ledger.settings")

# Prometheus multiprocess mode (see household_ledger/metrics.py): the directory must exist
# before any metric is created.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

app = Celery("household_ledger")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from household_ledger.metrics import connect_celery_signals  # noqa: E402

connect_celery_signals()
