"""Staff roles of the admin. Superusers can do everything; `support` is the helpdesk role.

The `support` group is created by a data migration (`ledger/0004_support_group`) and repaired
after every `migrate`/`flush` by a post_migrate handler (`ledger.apps`), so it always exists
with at least these permissions. Field-level limits (support may change a transaction's
status/category and a rule's active flag, nothing else) are enforced by the ledger's
ModelAdmins' `get_readonly_fields`. It lives in `ledger`, beside the migration that needs it:
`accounts` (the user admin) imports `ledger`, never the other way round.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

SUPPORT_GROUP = "support"

# (app_label, model, codename): view on every ledger model and the users, change only where
# support needs it, plus the two custom permissions of the user admin's export/import.
SUPPORT_PERMISSIONS = [
    ("accounts", "user", "view_user"),
    ("accounts", "user", "export_user_data"),
    ("accounts", "user", "import_user_data"),
    ("ledger", "category", "view_category"),
    ("ledger", "transaction", "view_transaction"),
    ("ledger", "transaction", "change_transaction"),
    ("ledger", "recurringtransaction", "view_recurringtransaction"),
    ("ledger", "recurringtransaction", "change_recurringtransaction"),
    ("ledger", "recurringoccurrence", "view_recurringoccurrence"),
    ("ledger", "budget", "view_budget"),
    ("ledger", "budgetline", "view_budgetline"),
    ("ledger", "ledger", "view_ledger"),
    ("ledger", "membership", "view_membership"),
    ("ledger", "invitation", "view_invitation"),
    ("ledger", "invitation", "change_invitation"),  # the revoke action
]

# Permissions the project defines for the user admin's actions (not tied to a model's Meta,
# so no schema migration): codename → name.
CUSTOM_PERMISSIONS = {
    ("accounts", "user", "export_user_data"): "Can export a user's data (backup document)",
    ("accounts", "user", "import_user_data"): "Can import a backup file for a user",
}


def ensure_support_group(*, apps) -> None:
    """Create the `support` group and its permissions; idempotent.

    Takes the app registry (a migration's historical apps, or the global one) so migrations
    and the post_migrate handler share it. Permissions an operator added by hand are kept.
    """
    for label in ("accounts", "ledger"):
        create_permissions(global_apps.get_app_config(label), apps=apps, verbosity=0)

    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")

    for (app_label, model, codename), name in CUSTOM_PERMISSIONS.items():
        content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
        Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )

    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    permissions = [
        Permission.objects.get(
            content_type__app_label=app_label, content_type__model=model, codename=codename
        )
        for app_label, model, codename in SUPPORT_PERMISSIONS
        # A migration older than a model runs with apps that do not have it yet: the
        # post_migrate handler adds its permissions once the model exists.
        if _has_model(apps, app_label, model)
    ]
    group.permissions.add(*permissions)


def _has_model(apps, app_label: str, model: str) -> bool:
    try:
        apps.get_model(app_label, model)
    except LookupError:
        return False
    return True


def ensure_support_group_after_migrate(sender, apps=None, **kwargs) -> None:
    """post_migrate: `flush` (and test teardown) empties auth tables; the group comes back."""
    apps = apps or global_apps
    try:
        apps.get_model("ledger", "Transaction")
        apps.get_model("auth", "Group")
    except LookupError:  # migrating backwards past the models this role needs
        return
    ensure_support_group(apps=apps)
