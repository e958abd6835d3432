from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LedgerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ledger"
    verbose_name = "Ledger"

    def ready(self):
        from ledger.default_categories import ensure_defaults_after_migrate

        post_migrate.connect(ensure_defaults_after_migrate, sender=self)
