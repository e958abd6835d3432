"""Index transactions by (date DESC, id DESC) for the admin's all-users list at 1M rows.

Built CONCURRENTLY so a deploy does not lock a large transactions table while it builds.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("ledger", "0004_support_group")]

    operations = [
        AddIndexConcurrently(
            model_name="transaction",
            index=models.Index(
                models.OrderBy(models.F("date"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                name="transaction_date_id_idx",
            ),
        ),
    ]
