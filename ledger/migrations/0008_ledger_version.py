"""Intentionally empty: the version table and triggers this migration used to create were
replaced by the revision the services bump (accounts 0003). A database that applied the old
0008 has them dropped by 0009; a new database never gets them."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0007_transaction_drop_duplicate_fk_indexes"),
        ("accounts", "0001_initial"),
    ]

    operations = []
