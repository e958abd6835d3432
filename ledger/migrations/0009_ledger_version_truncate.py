"""TRUNCATE changes every ledger version: it fires no DELETE trigger and names no user.

Truncating transactions (categories cannot be truncated without them: the foreign key) gives
every user and the shared scope a new version. Truncating the versions themselves does too:
otherwise every user would be back to "no row", a state that earlier calendars were keyed by.
"""

from django.db import migrations

BUMP_ALL = """
INSERT INTO ledger_ledgerversion (scope, version)
SELECT scope, gen_random_uuid() FROM (
    SELECT id AS scope FROM accounts_user
    UNION ALL
    SELECT '00000000-0000-0000-0000-000000000000'::uuid
) AS everyone
ORDER BY 1
ON CONFLICT (scope) DO UPDATE SET version = excluded.version
"""

TABLES = ("ledger_transaction", "ledger_ledgerversion")


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE FUNCTION ledger_version_bump_all() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {BUMP_ALL}; RETURN NULL; END $$"
    )
    for table in TABLES:
        schema_editor.execute(
            f'CREATE TRIGGER "{table}_ledger_version_truncate" AFTER TRUNCATE ON "{table}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_version_bump_all()"
        )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f'DROP TRIGGER IF EXISTS "{table}_ledger_version_truncate" ON "{table}"'
        )
    schema_editor.execute("DROP FUNCTION IF EXISTS ledger_version_bump_all()")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0008_ledger_version")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
