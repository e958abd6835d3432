"""The Celery application. Tasks live in each app's `tasks.py` and are autodiscovered."""

import os

from celery import Celery
from celery.signals import worker_ready
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "household_ledger.settings")

# Prometheus multiprocess mode (see household_ledger/metrics.py): the directory must exist
# before any metric is created.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

app = Celery("household_ledger")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def catch_up_recurring(sender, **kwargs):
    """On start-up, queue one run of the recurring engine, so a worker (and beat) that was down
    over midnight fills what it missed without waiting for the next scheduled run."""
    if not settings.RECURRING_CATCH_UP_ON_WORKER_START:
        return
    sender.app.send_task("ledger.tasks.materialize_recurring")
    sender.app.send_task("ledger.tasks.confirm_due_transactions")


from household_ledger.metrics import connect_celery_signals  # noqa: E402

connect_celery_signals()
