from django.apps import AppConfig

from accounts import schema  # noqa: F401  (registers the OpenAPI description of the auth class)


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts"
