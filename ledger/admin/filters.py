"""The changelists' own filters: categories the list can show, rule origin, category kind."""

import contextlib

from django.contrib import admin
from django.core.exceptions import ValidationError

from ledger.models import Category
from ledger.selectors.categories import category_list


def _uuid(value):
    """A UUID from the query string (user and category ids are both UUIDs)."""
    return Category._meta.get_field("id").to_python(value)


class CategoryListFilter(admin.SimpleListFilter):
    """The default categories, plus the user's own when the list is filtered to one user.

    Never every category of every user: with 10,000 users that would be a huge list.
    """

    title = "category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        owner = None
        with contextlib.suppress(ValidationError):
            owner = _uuid(request.GET.get("ledger__id__exact") or None)
        choices = [("none", "— no category —")]
        choices += [(str(c.pk), str(c)) for c in category_list(ledger=owner)]
        return choices

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value == "none":
            return queryset.filter(category__isnull=True)
        try:
            return queryset.filter(category_id=_uuid(value))
        except ValidationError:
            return queryset.none()


class FromRecurringRuleFilter(admin.SimpleListFilter):
    title = "from a recurring rule"
    parameter_name = "from_rule"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(recurring__isnull=False)
        if self.value() == "no":
            return queryset.filter(recurring__isnull=True)
        return queryset


class CategoryKindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [("default", "Default (shared)"), ("ledger", "A ledger's own")]

    def queryset(self, request, queryset):
        if self.value() == "default":
            return queryset.filter(is_default=True)
        if self.value() == "ledger":
            return queryset.filter(is_default=False)
        return queryset
