"""What a description is to the category suggester: its grams, and what one row weighs.

Korean household notes are short ("아이밀", "카페 CHIPS 아아", "브루인커피"), so a word is
too coarse a unit: the suggester compares the overlapping character bigrams of the
description with spaces, punctuation and emoji removed and case folded ("브루인 커피" and
"브루인커피" share every bigram), plus the whole normalized description as one more key (an
exact repeat is the strongest evidence there is). Trigrams were measured too and changed no
answer of bench/suggest.py, at twice the rows to store.

A row's evidence weighs 2^(days since 2000-01-01 / HALF_LIFE_DAYS): a row two months older
counts half, so what a household does lately wins over what it did (a re-filed 쿠팡 moves
over within weeks). The scale cancels out — only the ratio of two weights is ever used —
and over the product's date range (1900–2100) the exponent stays within ±609, far inside a
double's range, so a sum of weights can be kept and subtracted from exactly as a count can.

Pure functions, no database: the writer (`ledger.services.suggestions`), the reader
(`ledger.selectors.category_suggestions`) and the migration that built the first table all
use them, so what is stored and what is asked for always match.
"""

import datetime
import functools
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

# Only the start of a description counts: a note's merchant or subject comes first, and this
# bounds the keys one row stores (the whole form and at most 15 bigrams).
MAX_CHARS = 16
# The key of a whole description: "=" cannot occur in a normalized text (letters and digits
# only), so it never collides with a gram.
WHOLE_PREFIX = "="
# The key of "any description": per (type, category), the weight of all rows — the
# household's habits, used when the description itself says nothing.
ALL = ""

HALF_LIFE_DAYS = 60
_EPOCH = datetime.date(2000, 1, 1)


def _kept(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"


def normalize(text: str) -> str:
    """Letters and digits only (NFKC, case folded): "카페 CHIPS 아아!" → "카페chips아아"."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).casefold() if _kept(c))


def words(text: str) -> list[str]:
    """The words of `text` in normal form: "케첩, 두유" → ["케첩", "두유"]."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    found, current = [], []
    for char in folded:
        if _kept(char):
            current.append(char)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return found


@functools.lru_cache(maxsize=4096)  # a household repeats its descriptions (아이밀 × 27)
def grams(text: str) -> tuple[str, ...]:
    """The keys a description is learned and looked up by: its whole normal form (prefixed)
    and its character bigrams (a one-character text is its own gram); no duplicates, the
    whole form first."""
    folded = normalize(text)[:MAX_CHARS]
    if not folded:
        return ()
    found = [WHOLE_PREFIX + folded]
    if len(folded) == 1:
        found.append(folded)
    found.extend(folded[i : i + 2] for i in range(len(folded) - 1))
    return tuple(dict.fromkeys(found))


@functools.lru_cache(maxsize=4096)
def weight(day: datetime.date) -> float:
    """The weight of a row dated `day` (see the module's docstring)."""
    return 2.0 ** ((day - _EPOCH).days / HALF_LIFE_DAYS)


class Evidence(NamedTuple):
    """What one transaction teaches: filed under `category_id` as `type` on `date`."""

    ledger_id: object
    type: str
    description: str
    category_id: object
    date: datetime.date


# (ledger id, type, gram, category id) → (count, weight); the ids as strings.
Totals = dict[tuple[str, str, str, str], tuple[int, float]]


def tally(*, added: Iterable[Evidence] = (), removed: Iterable[Evidence] = ()) -> Totals:
    """The change to the stored counts and weights that adding and removing these rows make.
    Uncategorized rows teach nothing; keys whose change cancels out are left out (the same
    row removed and added again: a float plus its negation is exactly zero)."""
    totals: dict[tuple, list] = {}
    for sign, rows in ((1, added), (-1, removed)):
        for row in rows:
            if row.category_id is None:
                continue
            # ids as strings: their hash is cached, a UUID's is computed on every lookup
            ledger_id, category_id = str(row.ledger_id), str(row.category_id)
            row_weight = sign * weight(row.date)
            for gram in (ALL, *grams(row.description)):
                key = (ledger_id, row.type, gram, category_id)
                entry = totals.get(key)
                if entry is None:
                    totals[key] = [sign, row_weight]
                else:
                    entry[0] += sign
                    entry[1] += row_weight
    return {key: (count, total) for key, (count, total) in totals.items() if count or total}
