"""The admin of the accounts app: users (with their ledger at a glance, export and import)
and Clerk webhook deliveries. Django's autodiscovery imports this package; each module
registers its ModelAdmin."""

from accounts.admin.users import UserAdmin
from accounts.admin.webhooks import WebhookEventAdmin

__all__ = ["UserAdmin", "WebhookEventAdmin"]
