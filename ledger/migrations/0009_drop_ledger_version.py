"""Drop LedgerVersion and its triggers: the calendar is no longer cached.

The services bump the owner's `accounts.User.revision` in the same transaction as every
write (ledger.services.revisions), which is what ETags are built from. Going back to 0008
recreates the empty table without its triggers (no code reads it any more).
"""

from django.db import migrations

# (table, trigger) pairs and functions 0008 created.
TRIGGERS = [
    ("ledger_transaction", "ledger_transaction_ledger_version_insert"),
    ("ledger_transaction", "ledger_transaction_ledger_version_update"),
    ("ledger_transaction", "ledger_transaction_ledger_version_delete"),
    ("ledger_transaction", "ledger_transaction_ledger_version_truncate"),
    ("ledger_category", "ledger_category_ledger_version_update"),
    ("ledger_category", "ledger_category_ledger_version_delete"),
    ("accounts_user", "accounts_user_ledger_version_delete"),
    ("ledger_ledgerversion", "ledger_ledgerversion_ledger_version_truncate"),
]
FUNCTIONS = ("ledger_version_bump", "ledger_version_forget", "ledger_version_bump_all")


def drop_triggers(apps, schema_editor):
    for table, trigger in TRIGGERS:
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{trigger}" ON "{table}"')
    for function in FUNCTIONS:
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()")


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0008_ledger_version"),
        ("accounts", "0003_user_revision"),
    ]

    operations = [
        migrations.RunPython(drop_triggers, migrations.RunPython.noop, elidable=False),
        migrations.DeleteModel(name="LedgerVersion"),
    ]
