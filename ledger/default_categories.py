"""The SPA's default categories (name, emoji), in its order."""

from django.apps import apps as global_apps

DEFAULT_CATEGORIES = [
    ("식비", "🍽️"),
    ("간식류", "🍪"),
    ("카페", "☕"),
    ("농구 패배", "🏀"),
    ("교통비", "🚗"),
    ("문화생활", "🎭"),
    ("취미생활", "🎮"),
    ("의류", "👔"),
    ("생필품", "🛒"),
    ("미용", "💈"),
    ("의료비", "🏥"),
    ("교육", "📚"),
    ("월급", "💰"),
    ("월세", "🏠"),
    ("통신비", "📱"),
    ("구독료", "📺"),
    ("공과금", "⚡"),
    ("기타", "📝"),
]

# The defaults that name income, not spending: a budget may not hold one (categories have no
# type of their own; the SPA files 기타 under both, and every other default under spending).
INCOME_DEFAULT_CATEGORIES = frozenset({"월급"})


def ensure_default_categories(category_model) -> None:
    """Create or repair the defaults; idempotent. Takes the model so migrations can pass theirs
    (before 0016 a category's owner was `user`, since then `ledger`)."""
    names = {field.name for field in category_model._meta.get_fields()}
    owner = "ledger" if "ledger" in names else "user"
    for order, (name, emoji) in enumerate(DEFAULT_CATEGORIES):
        category_model.objects.update_or_create(
            **{owner: None},
            name=name,
            defaults={"emoji": emoji, "is_default": True, "sort_order": order},
        )


def ensure_defaults_after_migrate(sender, apps=None, **kwargs) -> None:
    """post_migrate: `flush` (and test teardown) empties tables; the defaults come back."""
    # `flush` sends the signal without the migration state's apps.
    apps = apps or global_apps
    try:
        category_model = apps.get_model("ledger", "Category")
    except LookupError:  # migrating backwards past the ledger's first migration
        return
    ensure_default_categories(category_model)
