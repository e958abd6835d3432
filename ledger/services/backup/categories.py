"""Matching imported category names to the categories a user may use.

`🍽️ 식비`, ` 식비 ` and `식비` are one category: a leading emoji and surrounding spaces are
ignored. A default category wins when the name matches one; otherwise the user's own category
of that name is used, or created with the file's emoji (through the categories service, so its
cap and name rules hold).
"""

import unicodedata

from django.core.exceptions import ValidationError

from ledger.models import Category
from ledger.selectors.categories import category_list
from ledger.services.categories import category_bulk_create

# Characters an emoji prefix is made of: symbols, variation selectors, joiners, keycaps, spaces.
_EMOJI_CATEGORIES = {"So", "Sk", "Sm", "Cf", "Mn", "Me", "Zs", "Cc"}
MAX_NAME_LENGTH = Category._meta.get_field("name").max_length
MAX_EMOJI_LENGTH = Category._meta.get_field("emoji").max_length

# Names an older SPA used that are not defaults today, with the emoji it showed for them.
LEGACY_EMOJI = {
    "음악": "🎵",
    "주거비": "🏠",
    "선물": "🎁",
    "취미": "🎯",
    "금융": "💰",
    "생활용품": "👕",
}


def split_emoji(raw: str) -> tuple[str, str]:
    """`"🍽️ 식비"` → `("🍽️", "식비")`; `"쇼핑"` → `("", "쇼핑")`."""
    text = raw.strip()
    end = 0
    while end < len(text) and unicodedata.category(text[end]) in _EMOJI_CATEGORIES:
        end += 1
    return text[:end].strip(), text[end:].strip()


def name_key(name: str) -> str:
    """The comparison key of a category name (without its emoji): spaces collapsed, casefolded."""
    return " ".join(name.split()).casefold()


class CategoryResolver:
    """Finds or (lazily) creates the category for each imported name, for one user."""

    def __init__(self, *, user):
        self.user = user
        self._defaults: dict[str, Category] = {}
        self._own: dict[str, Category] = {}
        for category in category_list(user=user):
            found = self._own if category.user_id is not None else self._defaults
            found.setdefault(name_key(category.name), category)
        self._pending: list[Category] = []
        self.created = 0

    def resolve(self, raw_name: str, *, emoji: str = "") -> Category | None:
        """The category for `raw_name`; None when the name is empty once the emoji is gone."""
        prefix, name = split_emoji(raw_name)
        if not name:
            return None
        key = name_key(name)
        found = self._defaults.get(key) or self._own.get(key)
        if found is not None:
            return found
        emoji = prefix or emoji.strip() or LEGACY_EMOJI.get(name, "")
        if len(emoji) > MAX_EMOJI_LENGTH:
            emoji = ""
        category = Category(user=self.user, name=" ".join(name.split()), emoji=emoji)
        self._own[key] = category
        self._pending.append(category)
        return category

    def is_new(self, category: Category) -> bool:
        return category._state.adding

    def flush(self) -> str | None:
        """Insert the categories created since the last flush; the reason when the service
        refuses them (the cap), and then nothing is inserted."""
        if not self._pending:
            return None
        try:
            category_bulk_create(user=self.user, categories=self._pending)
        except ValidationError as error:
            return "; ".join(error.messages)
        self.created += len(self._pending)
        self._pending = []
        return None
