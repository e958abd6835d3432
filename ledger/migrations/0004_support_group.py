"""Create the `support` staff group with its permissions (see ledger/roles.py). Idempotent."""

from django.db import migrations

from ledger.roles import SUPPORT_GROUP, ensure_support_group


def create_group(apps, schema_editor):
    ensure_support_group(apps=apps)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=SUPPORT_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0003_stats_indexes"),
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
