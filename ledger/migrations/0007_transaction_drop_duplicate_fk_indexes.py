"""Drop the transactions' own indexes on `user_id` and `recurring_id`: duplicates.

Every composite index of the table starts with `user_id`, and the partial unique index
(recurring_id, date) serves lookups by rule. The duplicates only slowed writes and the
planning of every query on the table. Only the indexes go — a plain AlterField would also drop
and re-add both foreign keys, re-checking every row under a lock that blocks writes — and they
go CONCURRENTLY (hence a non-atomic migration).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DUPLICATE_INDEXES = (
    "ledger_transaction_user_id_b0f6a97d",
    "ledger_transaction_recurring_id_6b4a86e3",
)


def drop_duplicate_indexes(apps, schema_editor):
    for name in DUPLICATE_INDEXES:
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')


def recreate_duplicate_indexes(apps, schema_editor):
    for name, column in zip(DUPLICATE_INDEXES, ("user_id", "recurring_id"), strict=True):
        schema_editor.execute(
            f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "ledger_transaction" ("{column}")'
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("ledger", "0006_transaction_user_date_created_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="transaction",
                    name="recurring",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="transactions",
                        to="ledger.recurringtransaction",
                    ),
                ),
                migrations.AlterField(
                    model_name="transaction",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="transactions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_duplicate_indexes, recreate_duplicate_indexes),
            ],
        ),
    ]
