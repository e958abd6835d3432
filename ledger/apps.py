from django.apps import AppConfig
from django.db.models.signals import post_migrate

from household_ledger import timestamps
from ledger.default_categories import ensure_defaults_after_migrate
from ledger.roles import ensure_support_group_after_migrate


class LedgerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ledger"
    verbose_name = "Ledger"

    def ready(self):
        # `flush` (and test teardown) empties tables; the defaults and the support group
        # come back after every migrate.
        post_migrate.connect(ensure_defaults_after_migrate, sender=self)
        post_migrate.connect(ensure_support_group_after_migrate, sender=self)
        # Every connection reads its timestamps with psycopg's C parser (household_ledger/
        # timestamps.py); the ledger's answers are mostly rows with two timestamps each.
        timestamps.connect()
