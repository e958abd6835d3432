"""`import_hash` on categories, rules and transactions: the content hash of the values the
browser and the server last agreed on, so a re-import knows what changed on which side
(ledger.services.backup.merge). Empty for rows written before it existed; a constant database
default, so PostgreSQL adds the columns without rewriting the tables.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0011_idempotency_records"),
    ]

    operations = [
        migrations.AddField(
            model_name="category",
            name="import_hash",
            field=models.CharField(
                blank=True, db_default="", default="", editable=False, max_length=64
            ),
        ),
        migrations.AddField(
            model_name="recurringtransaction",
            name="import_hash",
            field=models.CharField(
                blank=True, db_default="", default="", editable=False, max_length=64
            ),
        ),
        migrations.AddField(
            model_name="transaction",
            name="import_hash",
            field=models.CharField(
                blank=True, db_default="", default="", editable=False, max_length=64
            ),
        ),
    ]
