"""LedgerVersion and the PostgreSQL triggers that change it on every write a calendar shows.

Statement-level triggers with transition tables: one upsert per statement (a 1,000-row import
batch or a COPY pays once), naming each user whose transactions or categories the statement
touched; a category without a user is a shared default, whose scope is the nil UUID. Scopes are
upserted in order so that two statements spanning the same users lock their rows in one order.
A new category is in no transaction yet, so inserting one changes nothing. Deleting a user
deletes their row last (Django deletes a user after their transactions, whose triggers write
it again). A TRUNCATE fires no DELETE trigger and names no user: truncating the transactions,
or the versions themselves (back to "no row", a state earlier calendars were keyed by), gives
every user and the shared scope a new version — as this migration does to start with, so that
applying it again after a revert cannot bring back keys of an earlier "no row" state.
"""

from django.db import migrations, models

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

CREATE_FUNCTIONS = f"""
CREATE FUNCTION ledger_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    scopes uuid[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT user_id) INTO scopes FROM ledger_version_new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT user_id) INTO scopes FROM ledger_version_old_rows;
    ELSE
        SELECT array_agg(DISTINCT user_id) INTO scopes FROM (
            SELECT user_id FROM ledger_version_new_rows
            UNION ALL
            SELECT user_id FROM ledger_version_old_rows
        ) AS changed;
    END IF;
    INSERT INTO ledger_ledgerversion (scope, version)
    SELECT coalesce(scope, '00000000-0000-0000-0000-000000000000'::uuid), gen_random_uuid()
    FROM unnest(scopes) AS scope
    ORDER BY 1
    ON CONFLICT (scope) DO UPDATE SET version = excluded.version;
    RETURN NULL;
END
$$;

CREATE FUNCTION ledger_version_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM ledger_ledgerversion WHERE scope IN (SELECT id FROM ledger_version_old_rows);
    RETURN NULL;
END
$$;

CREATE FUNCTION ledger_version_bump_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {BUMP_ALL};
    RETURN NULL;
END
$$;
"""

FUNCTIONS = ("ledger_version_bump", "ledger_version_forget", "ledger_version_bump_all")

TRANSITION_TABLES = {
    "INSERT": "NEW TABLE AS ledger_version_new_rows",
    "UPDATE": "OLD TABLE AS ledger_version_old_rows NEW TABLE AS ledger_version_new_rows",
    "DELETE": "OLD TABLE AS ledger_version_old_rows",
}

TRIGGERS = [
    *(("ledger_transaction", event, "ledger_version_bump") for event in TRANSITION_TABLES),
    ("ledger_category", "UPDATE", "ledger_version_bump"),
    ("ledger_category", "DELETE", "ledger_version_bump"),
    ("accounts_user", "DELETE", "ledger_version_forget"),
    ("ledger_transaction", "TRUNCATE", "ledger_version_bump_all"),
    ("ledger_ledgerversion", "TRUNCATE", "ledger_version_bump_all"),
]


def _trigger_name(table: str, event: str) -> str:
    return f"{table}_ledger_version_{event.lower()}"


def _referencing(event: str) -> str:
    tables = TRANSITION_TABLES.get(event)  # TRUNCATE has none
    return f"REFERENCING {tables} " if tables else ""


def install_triggers(apps, schema_editor):
    schema_editor.execute(CREATE_FUNCTIONS)
    for table, event, function in TRIGGERS:
        schema_editor.execute(
            f'CREATE TRIGGER "{_trigger_name(table, event)}" AFTER {event} ON "{table}" '
            f"{_referencing(event)}FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    schema_editor.execute(BUMP_ALL)


def remove_triggers(apps, schema_editor):
    for table, event, _ in TRIGGERS:
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{_trigger_name(table, event)}" ON "{table}"')
    for function in FUNCTIONS:
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()")


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0007_transaction_drop_duplicate_fk_indexes"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="LedgerVersion",
            fields=[
                ("scope", models.UUIDField(primary_key=True, serialize=False)),
                ("version", models.UUIDField()),
            ],
        ),
        migrations.RunPython(install_triggers, remove_triggers, elidable=False),
    ]
