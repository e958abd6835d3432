"""The likely categories of a description (자동 분류): what this household called it, else
what Korean households call it.

Two sources of evidence, blended (docs/suggestions.md has the method and its figures):

- **History** — the ledger's own transactions of that type, through their grams
  (`ledger.suggestion_grams`, kept by `ledger.services.suggestions` on every write). Each
  gram of the description seen before votes for the categories it was filed under, in
  proportion to their recency-weighted counts; the whole description weighs four bigrams,
  and a key seen once counts less than one seen often. How much of the description the
  history knows (its coverage, 0–1) is the share of the answer it decides.
- **Knowledge** — the built-in words of `ledger.suggestion_knowledge` and the names of the
  ledger's own categories found in the description; it decides the rest.

A little of the household's habits (their categories' recency-weighted share among the
type's rows) breaks ties. When neither source knows a word of the description, the answer is
those habits alone, at low scores (≤ 0.3); a ledger with no history then gets an empty list.

One query, whatever the size of the history: the categories the ledger may use
(`category_list`) beside the evidence rows of the description's grams (a prefix of the
evidence table's primary key (ledger, type, gram, category): only those index entries are read).
"""

import datetime
import functools
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from ledger.models import SuggestionGram
from ledger.selectors.categories import category_list
from ledger.suggestion_grams import ALL, WHOLE_PREFIX, grams, normalize, words
from ledger.suggestion_knowledge import PRIMARY, PRIMARY_WEIGHT, SECONDARY, SECONDARY_WEIGHT

MAX_SUGGESTIONS = 3

# How much each kind of key counts in the history's vote.
WHOLE_WEIGHT = 4.0
GRAM_WEIGHT = 1.0  # bigrams, and the lone gram of a one-character text
# A key seen n times counts n / (n + SEEN_DAMPING): once is half as sure as many times.
SEEN_DAMPING = 1.0
# The household's habits: their share in every answer, and the scale of a habits-only one.
HABIT_WEIGHT = 0.05
HABIT_ONLY_SCALE = 0.3

# Endings in which a one-syllable word is not meant (약 in 식당예약 is no medicine).
_NOT_THE_SYLLABLE = ("예약", "계약", "절약", "요약", "공약", "선약", "특약", "조약")


# What a suggestion shows of its category: `ledger.api.categories.CategorySerializer`'s fields.
CATEGORY_FIELDS = ("id", "name", "emoji", "is_default", "created_at")


@dataclass(frozen=True)
class CategorySuggestion:
    category: dict  # CATEGORY_FIELDS
    score: float


@dataclass(frozen=True)
class _Word:
    text: str  # normalized
    category: str  # a category's name
    weight: float


def _is_strict(text: str) -> bool:
    """Words matched only as a whole word (short Latin) or a word's end (one syllable)."""
    return len(text) == 1 or (len(text) <= 3 and text.isascii() and text.isalpha())


def _occurs_strictly(word: str, pieces: list[str]) -> bool:
    if len(word) == 1:  # 약 in "두통약" or "약", not in "예약"
        return any(p.endswith(word) and not p.endswith(_NOT_THE_SYLLABLE) for p in pieces)
    for piece in pieces:  # "cu" in "CU 편의점", not in "cute"
        start = piece.find(word)
        while start >= 0:
            before = piece[start - 1 : start]
            after = piece[start + len(word) : start + len(word) + 1]
            if not (before.isascii() and before.isalpha()) and not (
                after.isascii() and after.isalpha()
            ):
                return True
            start = piece.find(word, start + 1)
    return False


class _Vocabulary:
    """Words → categories, found in a description in one pass over its characters (the
    built-in list has hundreds of words; a description, a few characters)."""

    def __init__(self, words_: list[_Word]):
        self.by_first: dict[str, list[_Word]] = defaultdict(list)
        self.strict: list[_Word] = []
        for word in words_:
            if word.text:
                (self.strict if _is_strict(word.text) else self.by_first[word.text[0]]).append(word)

    def find(self, folded: str, pieces: list[str]) -> list[_Word]:
        found = [
            word
            for index, char in enumerate(folded)
            for word in self.by_first.get(char, ())
            if folded.startswith(word.text, index)
        ]
        found.extend(word for word in self.strict if _occurs_strictly(word.text, pieces))
        return found


def _compile(kind: str) -> _Vocabulary:
    found = []
    for weight, table in ((PRIMARY_WEIGHT, PRIMARY), (SECONDARY_WEIGHT, SECONDARY)):
        for category, listed in table[kind].items():
            found.extend(_Word(normalize(text), category, weight) for text in listed)
    return _Vocabulary(found)


_KNOWLEDGE = {kind: _compile(kind) for kind in PRIMARY}


def _knowledge(description: str, *vocabularies: _Vocabulary) -> dict[str, float]:
    """Category name → the weight of the vocabularies' words found in the description. A
    word inside a longer word found there does not count (쿠팡 in 쿠팡와우)."""
    folded, pieces = normalize(description), words(description)
    hits = [word for vocabulary in vocabularies for word in vocabulary.find(folded, pieces)]
    texts = {word.text for word in hits}
    votes: dict[str, float] = defaultdict(float)
    for word in dict.fromkeys(hits):  # a word found twice counts once
        if not any(word.text != other and word.text in other for other in texts):
            votes[word.category] += word.weight
    return votes


def _key_weight(key: str) -> float:
    if key.startswith(WHOLE_PREFIX):
        return WHOLE_WEIGHT
    return GRAM_WEIGHT


def _history(keys: list[str], rows) -> tuple[dict, float, dict]:
    """(category id → share of the history's vote, the history's coverage 0–1, category id
    → share of the household's habits) from the evidence rows."""
    by_key: dict[str, list[tuple]] = defaultdict(list)
    for key, category_id, count, weight in rows:
        if weight > 0:  # a sum that lost its last row to rounding is no evidence
            by_key[key].append((category_id, count, weight))
    votes: dict = defaultdict(float)
    known = 0.0
    for key in keys:
        filed = by_key.get(key)
        if not filed:
            continue
        seen = sum(count for _, count, _ in filed)
        strength = _key_weight(key) * seen / (seen + SEEN_DAMPING)
        total = sum(weight for _, _, weight in filed)
        for category_id, _, weight in filed:
            votes[category_id] += strength * weight / total
        known += strength
    everything = sum(_key_weight(key) for key in keys)
    coverage = known / everything if everything else 0.0
    share = {category_id: vote / known for category_id, vote in votes.items()} if known else {}
    habits = by_key.get(ALL, [])
    all_weight = sum(weight for _, _, weight in habits)
    habit_share = {category_id: weight / all_weight for category_id, _, weight in habits}
    return share, coverage, habit_share


# The categories `ledger` may use and the evidence of the description's grams, in one
# statement: `category_list`'s query (the one definition of those categories) as the ORM
# compiles it — once per process, since on this hot path (a request per keystroke) compiling
# costs Django more than PostgreSQL needs to answer (0.5 vs 0.05 ms), and a round trip more
# than both (0.3 ms; bench/suggest.py) — beside the evidence rows, which a prefix of their
# table's primary key (ledger, type, gram, …) finds with one array parameter. Ids come as text
# and `created_at` as a UTC timestamp: parsing a few hundred UUIDs, or the driver's reading
# of a timestamptz, would cost more than the query.
_ANY_USER = uuid.UUID(int=0)
_CATEGORY_COLUMNS = (*CATEGORY_FIELDS, "ledger_id", "sort_order")


@functools.cache
def _suggestion_sql() -> str:
    query = category_list(ledger=_ANY_USER).values_list(*_CATEGORY_COLUMNS).query
    categories_sql, params = query.sql_with_params()
    if list(params) != [_ANY_USER]:
        raise ImproperlyConfigured(
            "category_list() no longer takes the ledger as its one parameter"
        )
    evidence_table = connection.ops.quote_name(SuggestionGram._meta.db_table)
    return f"""
        WITH evidence AS MATERIALIZED (
            SELECT category_id, gram, count, weight FROM {evidence_table}
            WHERE ledger_id = %s AND type = %s AND gram = ANY(%s)
        )
        SELECT c.id::text, c.name, c.emoji, c.is_default, c.created_at AT TIME ZONE 'UTC',
               c.ledger_id IS NOT NULL, c.sort_order, NULL, NULL, NULL
        FROM ({categories_sql}) AS c
        UNION ALL
        SELECT category_id::text, NULL, NULL, NULL, NULL, NULL, NULL, gram, count, weight
        FROM evidence
    """  # noqa: S608 - the SQL comes from the ORM and the model


def _categories_and_evidence(*, ledger, type: str, keys: list[str]) -> tuple[dict, list]:
    """The categories `ledger` may use (id → (fields, whether it is one of the ledger's own,
    its sort order)) and the evidence rows (gram, category id, count, weight) of `keys` and
    of all the type's rows."""
    width = len(CATEGORY_FIELDS)
    categories, evidence = {}, []
    with connection.cursor() as cursor:
        cursor.execute(_suggestion_sql(), [ledger.pk, type, [ALL, *keys], ledger.pk])
        for row in cursor.fetchall():
            if row[1] is None:  # no name: an evidence row
                evidence.append((row[width + 2], row[0], row[width + 3], row[width + 4]))
            else:
                fields = dict(zip(CATEGORY_FIELDS, row, strict=False))
                fields["created_at"] = fields["created_at"].replace(tzinfo=datetime.UTC)
                categories[row[0]] = (fields, row[width], row[width + 1])
    return categories, evidence


def category_suggest(*, ledger, description: str, type: str) -> list[CategorySuggestion]:
    """Up to MAX_SUGGESTIONS categories `ledger` may use for a `type` transaction described
    so, best first, each with a score from 0 to 1 (see the module's docstring)."""
    keys = grams(description)
    categories, evidence = _categories_and_evidence(ledger=ledger, type=type, keys=keys)
    share, coverage, habits = _history(keys, evidence)

    own = _Vocabulary(
        [
            _Word(normalize(fields["name"]), fields["name"], PRIMARY_WEIGHT)
            for fields, is_own, _ in categories.values()
            if is_own
        ]
    )
    knowledge = _knowledge(description, _KNOWLEDGE[type], own)
    known_words = sum(knowledge.values())

    by_name = {fields["name"]: category_id for category_id, (fields, *_) in categories.items()}
    scores: dict = defaultdict(float)
    if share or knowledge:
        for category_id, part in share.items():
            scores[category_id] += coverage * part
        for name, part in knowledge.items():
            if name in by_name:
                scores[by_name[name]] += (1 - coverage) * part / known_words
        for category_id, part in habits.items():
            scores[category_id] += HABIT_WEIGHT * part
        scale = 1 / (1 + HABIT_WEIGHT)
    else:
        scores.update(habits)
        scale = HABIT_ONLY_SCALE

    def rank(category_id):  # ties: in the categories' list order (defaults first)
        fields, is_own, sort_order = categories[category_id]
        return -scores[category_id], is_own, sort_order, fields["name"]

    ranked = sorted((category_id for category_id in scores if category_id in categories), key=rank)
    return [
        CategorySuggestion(
            category=categories[category_id][0], score=round(scores[category_id] * scale, 4)
        )
        for category_id in ranked[:MAX_SUGGESTIONS]
    ]
