"""Category suggestions' evidence table, filled from the transactions already there.

From here on `ledger.services.suggestions` keeps it, inside every transaction write.
"""

import itertools

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from ledger.suggestion_grams import Evidence, tally


def fill(apps, schema_editor):
    """One user at a time: each user's totals are built in memory and inserted at once."""
    Transaction = apps.get_model("ledger", "Transaction")
    SuggestionGram = apps.get_model("ledger", "SuggestionGram")
    rows = (
        Transaction.objects.filter(category__isnull=False)
        .order_by("user_id")
        .values_list("user_id", "type", "description", "category_id", "date")
        .iterator(chunk_size=5000)
    )
    for _, of_user in itertools.groupby(rows, key=lambda row: row[0]):
        totals = tally(added=[Evidence(*row) for row in of_user])
        SuggestionGram.objects.bulk_create(
            [
                SuggestionGram(
                    user_id=user_id, type=kind, gram=gram, category_id=category_id,
                    count=count, weight=weight,
                )
                for (user_id, kind, gram, category_id), (count, weight) in totals.items()
            ],
            batch_size=5000,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0012_import_hash"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SuggestionGram",
            fields=[
                ("pk", models.CompositePrimaryKey("user", "type", "gram", "category", blank=True, editable=False, primary_key=True, serialize=False)),
                ("type", models.CharField(choices=[("income", "수입"), ("expense", "지출")], max_length=10)),
                ("gram", models.CharField(blank=True, db_collation="C", max_length=40)),
                ("count", models.IntegerField()),
                ("weight", models.FloatField()),
                ("category", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="suggestion_grams", to="ledger.category")),
                ("user", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "constraints": [models.CheckConstraint(condition=models.Q(("type__in", ["income", "expense"])), name="suggestion_gram_type_valid")],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
