"""Every row of ledger data moves from its user to that user's personal ledger.

Each user gets a personal ledger ("내 가계부") with an owner membership and their revision and
sync floor; every row keeps its id and gains `ledger` (and `created_by` on transactions and
rules). The suggestion evidence, keyed by its owner, is rebuilt under the ledger's key.
The next migration drops `user` and makes `ledger` required. Reversible: going back hands each
personal ledger's rows to its user again.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

PERSONAL_LEDGER_NAME = "내 가계부"

# Tables whose rows name their user; `created_by` is kept on the last two.
OWNED = ["category", "budget", "tombstone", "recurringtransaction", "transaction"]
AUTHORED = {"recurringtransaction", "transaction"}


def to_ledgers(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Ledger = apps.get_model("ledger", "Ledger")
    Membership = apps.get_model("ledger", "Membership")
    have = set(
        Ledger.objects.filter(personal_for__isnull=False).values_list("personal_for_id", flat=True)
    )
    users = User.objects.exclude(pk__in=have).values_list("pk", "revision", "sync_floor")
    for user_id, revision, sync_floor in users.iterator(chunk_size=2000):
        ledger = Ledger.objects.create(
            personal_for_id=user_id,
            name=PERSONAL_LEDGER_NAME,
            revision=revision,
            sync_floor=sync_floor,
        )
        Membership.objects.create(ledger=ledger, user_id=user_id, role="owner")
    with schema_editor.connection.cursor() as cursor:
        for table in OWNED:
            authored = ", created_by_id = t.user_id" if table in AUTHORED else ""
            cursor.execute(
                f"UPDATE ledger_{table} AS t SET ledger_id = l.id{authored} "  # noqa: S608
                "FROM ledger_ledger AS l WHERE l.personal_for_id = t.user_id"
            )
        cursor.execute(
            "UPDATE ledger_recurringoccurrence AS o SET ledger_id = r.ledger_id "
            "FROM ledger_recurringtransaction AS r WHERE r.id = o.recurring_id"
        )
        cursor.execute(
            "UPDATE ledger_budgetline AS x SET ledger_id = b.ledger_id "
            "FROM ledger_budget AS b WHERE b.id = x.budget_id"
        )


def to_users(apps, schema_editor):
    """Back to one owner per row: each personal ledger's rows return to its user (and the
    user's revision); rows of shared ledgers have no single owner and are lost."""
    with schema_editor.connection.cursor() as cursor:
        for table in OWNED:
            cursor.execute(
                f"UPDATE ledger_{table} AS t SET user_id = l.personal_for_id "  # noqa: S608
                "FROM ledger_ledger AS l WHERE l.id = t.ledger_id"
            )
            cursor.execute(
                f"DELETE FROM ledger_{table} WHERE user_id IS NULL AND ledger_id IS NOT NULL"  # noqa: S608
            )
        cursor.execute(
            "UPDATE accounts_user AS u SET revision = l.revision, sync_floor = l.sync_floor "
            "FROM ledger_ledger AS l WHERE l.personal_for_id = u.id"
        )


def _nullable_ledger(model_name, related_name="+"):
    return migrations.AddField(
        model_name=model_name,
        name="ledger",
        field=models.ForeignKey(
            null=True,
            db_index=False,
            on_delete=django.db.models.deletion.CASCADE,
            related_name=related_name,
            to="ledger.ledger",
        ),
    )


def _created_by(model_name):
    return migrations.AddField(
        model_name=model_name,
        name="created_by",
        field=models.ForeignKey(
            blank=True,
            null=True,
            db_index=False,
            on_delete=django.db.models.deletion.SET_NULL,
            related_name="+",
            to=settings.AUTH_USER_MODEL,
        ),
    )


def _user_nullable(model_name, related_name, db_index=True):
    return migrations.AlterField(
        model_name=model_name,
        name="user",
        field=models.ForeignKey(
            null=True,
            db_index=db_index,
            on_delete=django.db.models.deletion.CASCADE,
            related_name=related_name,
            to=settings.AUTH_USER_MODEL,
        ),
    )


# The evidence's primary key changes, which Django cannot alter: the rows wait in a side
# table while the old table is dropped and the new one created.
GRAMS_OUT = (
    "CREATE TABLE ledger_suggestiongram_move AS "
    "SELECT l.id AS ledger_id, g.type, g.gram, g.category_id, g.count, g.weight "
    "FROM ledger_suggestiongram AS g JOIN ledger_ledger AS l ON l.personal_for_id = g.user_id"
)
GRAMS_OUT_REVERSE = (
    "INSERT INTO ledger_suggestiongram (user_id, type, gram, category_id, count, weight) "
    "SELECT l.personal_for_id, m.type, m.gram, m.category_id, m.count, m.weight "
    "FROM ledger_suggestiongram_move AS m JOIN ledger_ledger AS l ON l.id = m.ledger_id "
    "WHERE l.personal_for_id IS NOT NULL; DROP TABLE ledger_suggestiongram_move"
)
GRAMS_IN = (
    "INSERT INTO ledger_suggestiongram (ledger_id, type, gram, category_id, count, weight) "
    "SELECT ledger_id, type, gram, category_id, count, weight FROM ledger_suggestiongram_move; "
    "DROP TABLE ledger_suggestiongram_move"
)
GRAMS_IN_REVERSE = (
    "CREATE TABLE ledger_suggestiongram_move AS "
    "SELECT ledger_id, type, gram, category_id, count, weight FROM ledger_suggestiongram"
)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0015_ledgers"),
        ("accounts", "0004_user_sync_floor"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        _nullable_ledger("category", "categories"),
        _nullable_ledger("recurringtransaction", "recurring_rules"),
        _nullable_ledger("transaction", "transactions"),
        _nullable_ledger("recurringoccurrence"),
        _nullable_ledger("tombstone"),
        _nullable_ledger("budget", "budgets"),
        _nullable_ledger("budgetline"),
        _created_by("recurringtransaction"),
        _created_by("transaction"),
        _user_nullable("recurringtransaction", "recurring_rules"),
        _user_nullable("transaction", "transactions", db_index=False),
        _user_nullable("tombstone", "+", db_index=False),
        _user_nullable("budget", "budgets", db_index=False),
        migrations.RunPython(to_ledgers, to_users),
        migrations.RunSQL(GRAMS_OUT, GRAMS_OUT_REVERSE),
        migrations.DeleteModel(name="SuggestionGram"),
        migrations.CreateModel(
            name="SuggestionGram",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "ledger",
                        "type",
                        "gram",
                        "category",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "type",
                    models.CharField(
                        choices=[("income", "수입"), ("expense", "지출")], max_length=10
                    ),
                ),
                ("gram", models.CharField(blank=True, db_collation="C", max_length=40)),
                ("count", models.IntegerField()),
                ("weight", models.FloatField()),
                (
                    "category",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="suggestion_grams",
                        to="ledger.category",
                    ),
                ),
                (
                    "ledger",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="ledger.ledger",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("type__in", ["income", "expense"])),
                        name="suggestion_gram_type_valid",
                    )
                ],
            },
        ),
        migrations.RunSQL(GRAMS_IN, GRAMS_IN_REVERSE),
    ]
