"""Drop the version table and the triggers an earlier 0008 created, where they exist.

Nothing reads them: every service bumps the owner's `accounts.User.revision` in the same
transaction as its write (ledger.services.revisions), which is what ETags are built from.
"""

from django.db import migrations

# (table, trigger) pairs and functions the earlier 0008 created.
TRIGGERS = [
    ("ledger_transaction", "ledger_transaction_ledger_version_insert"),
    ("ledger_transaction", "ledger_transaction_ledger_version_update"),
    ("ledger_transaction", "ledger_transaction_ledger_version_delete"),
    ("ledger_transaction", "ledger_transaction_ledger_version_truncate"),
    ("ledger_category", "ledger_category_ledger_version_update"),
    ("ledger_category", "ledger_category_ledger_version_delete"),
    ("accounts_user", "accounts_user_ledger_version_delete"),
]
FUNCTIONS = ("ledger_version_bump", "ledger_version_forget", "ledger_version_bump_all")

DROP = ";\n".join(
    [f'DROP TRIGGER IF EXISTS "{trigger}" ON "{table}"' for table, trigger in TRIGGERS]
    + ['DROP TABLE IF EXISTS "ledger_ledgerversion"']
    + [f"DROP FUNCTION IF EXISTS {function}()" for function in FUNCTIONS]
)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0008_ledger_version"),
        ("accounts", "0003_user_revision"),
    ]

    operations = [migrations.RunSQL(DROP, migrations.RunSQL.noop, elidable=False)]
