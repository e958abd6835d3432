"""Index a user's transactions by (date, created_at, id): the list and calendar orders.

It replaces (user, date DESC): the list (`-date, -created_at, -id`, a backward scan) and the
calendar views (`date, created_at, id`) then read rows in index order, with no sort step, and
a deep page of the heavy user's list does not re-sort every row before it. Built and dropped
CONCURRENTLY (no write lock on a large table).
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("ledger", "0005_transaction_date_index")]

    operations = [
        AddIndexConcurrently(
            model_name="transaction",
            index=models.Index(
                fields=["user", "date", "created_at", "id"], name="transaction_user_date_idx2"
            ),
        ),
        RemoveIndexConcurrently(
            model_name="transaction", name="transaction_user_date_idx"
        ),
    ]
