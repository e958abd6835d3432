"""Create the SPA's 18 default categories, in its order. Safe to run again."""

from django.db import migrations

from ledger.default_categories import DEFAULT_CATEGORIES, ensure_default_categories


def create_defaults(apps, schema_editor):
    ensure_default_categories(apps.get_model("ledger", "Category"))


def remove_defaults(apps, schema_editor):
    Category = apps.get_model("ledger", "Category")
    Category.objects.filter(user=None, name__in=[name for name, _ in DEFAULT_CATEGORIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
