"""Index a ledger's pending occurrences (amount NULL) by date: budget versus actual reads their
estimates by it. Built CONCURRENTLY (no write lock on a large table); it holds only the few
rows still waiting for an amount.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("ledger", "0020_month_summary")]

    operations = [
        AddIndexConcurrently(
            model_name="transaction",
            index=models.Index(
                condition=models.Q(amount__isnull=True),
                fields=["ledger", "date"],
                name="transaction_pending_idx",
            ),
        ),
    ]
