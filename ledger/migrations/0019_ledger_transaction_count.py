from django.db import migrations, models

# The ledgers that exist get their count once; from then on the transaction services keep it.
COUNT_EXISTING = """
UPDATE ledger_ledger AS l SET transaction_count = c.n
FROM (SELECT ledger_id, count(*) AS n FROM ledger_transaction GROUP BY ledger_id) AS c
WHERE c.ledger_id = l.id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0018_budget_revision"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledger",
            name="transaction_count",
            field=models.PositiveIntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.RunSQL(COUNT_EXISTING, reverse_sql=migrations.RunSQL.noop),
    ]
