"""Matching imported category names to the categories a ledger may use.

`🍽️ 식비`, ` 식비 ` and `식비` are one category: a leading emoji and surrounding spaces are
ignored. A default category wins when the name matches one; otherwise the ledger's own category
of that name is used, or created with the file's emoji (through the categories service, so its
cap and name rules hold).
"""

import unicodedata

from django.core.exceptions import ValidationError

from ledger.models import Category
from ledger.selectors.categories import category_list
from ledger.services.categories import category_bulk_create

from .merge import CATEGORY_FIELDS, content_hash

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


def read_category(value, *, file_categories: dict) -> tuple[tuple[str, str] | None, str, str]:
    """The category an imported row names, as (name with any emoji prefix, emoji to create it
    with), and the problem when there is one: (None, "warning", why) for no usable category,
    (None, "error", why) for a value that cannot be a category. `value` is a name, a
    `{"name", "emoji"}` object, or the id of a row of the file's own categories table."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "warning", "no category: imported uncategorized"
    emoji = ""
    if isinstance(value, dict):
        emoji = value.get("emoji") if isinstance(value.get("emoji"), str) else ""
        value = value.get("name")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        found = file_categories.get(str(int(value))) if float(value).is_integer() else None
        if found is None:
            return None, "warning", f"unknown category id {value!r}: imported uncategorized"
        value, emoji = found
    if not isinstance(value, str):
        return None, "error", "must be a category name"
    _, name = split_emoji(value)
    if not name:
        return None, "warning", f"category {value!r} has no name: imported uncategorized"
    if len(name) > MAX_NAME_LENGTH:
        return None, "error", f"is too long (at most {MAX_NAME_LENGTH} characters)"
    return (value, emoji), "", ""


def name_key(name: str) -> str:
    """The comparison key of a category name (without its emoji): spaces collapsed, casefolded."""
    return " ".join(name.split()).casefold()


class CategoryResolver:
    """Finds or (lazily) creates the category for each imported name, for one ledger."""

    def __init__(self, *, ledger):
        self.ledger = ledger
        self._defaults: dict[str, Category] = {}
        self._own: dict[str, Category] = {}
        self._by_id: dict = {}
        for category in category_list(ledger=ledger):
            found = self._own if category.ledger_id is not None else self._defaults
            found.setdefault(name_key(category.name), category)
            self._by_id[category.pk] = category
        self._pending: list[Category] = []
        self.created = 0

    def resolve(self, raw_name: str, *, emoji: str = "") -> Category | None:
        """The category for `raw_name`; None when the name is empty once the emoji is gone."""
        wanted = self.wanted(raw_name, emoji=emoji)
        if wanted is None:
            return None
        key = name_key(wanted["name"])
        found = self._defaults.get(key) or self._own.get(key)
        if found is not None:
            return found
        category = Category(
            ledger=self.ledger, import_hash=content_hash(wanted, CATEGORY_FIELDS), **wanted
        )
        self._own[key] = category
        self._by_id[category.pk] = category
        self._pending.append(category)
        return category

    @staticmethod
    def wanted(raw_name: str, *, emoji: str = "") -> dict | None:
        """The name and emoji a file's category would be created with; None without a name."""
        prefix, name = split_emoji(raw_name)
        if not name:
            return None
        emoji = prefix or emoji.strip() or LEGACY_EMOJI.get(name, "")
        if len(emoji) > MAX_EMOJI_LENGTH:
            emoji = ""
        return {"name": " ".join(name.split()), "emoji": emoji}

    def name_of(self, category_id) -> str | None:
        """The name of one of the ledger's categories (a default, an own one, one pending)."""
        category = self._by_id.get(category_id)
        return None if category is None else category.name

    def is_new(self, category: Category) -> bool:
        return category._state.adding

    def flush(self) -> str | None:
        """Insert the categories created since the last flush; the reason when the service
        refuses them (the cap), and then nothing is inserted."""
        if not self._pending:
            return None
        try:
            category_bulk_create(ledger=self.ledger, categories=self._pending)
        except ValidationError as error:
            return "; ".join(error.messages)
        self.created += len(self._pending)
        self._pending = []
        return None
