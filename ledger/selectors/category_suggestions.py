"""The likely categories of a description (자동 분류): what this household called it, else
what Korean households call it.

Two sources of evidence, blended (docs/suggestions.md has the method and its figures):

- **History** — the user's own transactions of that type, through their grams
  (`ledger.suggestion_grams`, kept by `ledger.services.suggestions` on every write). Each
  gram of the description seen before votes for the categories it was filed under, in
  proportion to their recency-weighted counts; the whole description weighs most, a trigram
  more than a bigram, and a gram seen once less than one seen often. How much of the
  description the history knows (its coverage, 0–1) is the share of the answer it decides.
- **Knowledge** — the built-in words of `ledger.suggestion_knowledge` and the names of the
  user's own categories found in the description; it decides the rest.

A little of the household's habits (their categories' recency-weighted share among the
type's rows) breaks ties. When neither source knows a word of the description, the answer is
those habits alone, at low scores (≤ 0.3); a user with no history then gets an empty list.

Two queries, whatever the size of the history: the categories the user may use and the
evidence rows of the description's grams (the primary key's prefix).
"""

from collections import defaultdict
from dataclasses import dataclass

from ledger.models import Category, SuggestionGram
from ledger.selectors.categories import category_list
from ledger.suggestion_grams import ALL, WHOLE_PREFIX, grams, normalize, words
from ledger.suggestion_knowledge import PRIMARY, PRIMARY_WEIGHT, SECONDARY, SECONDARY_WEIGHT

MAX_SUGGESTIONS = 3

# How much each kind of key counts in the history's vote.
WHOLE_WEIGHT = 4.0
TRIGRAM_WEIGHT = 1.5
GRAM_WEIGHT = 1.0  # bigrams, and the lone gram of a one-character text
# A key seen n times counts n / (n + SEEN_DAMPING): once is half as sure as many times.
SEEN_DAMPING = 1.0
# The household's habits: their share in every answer, and the scale of a habits-only one.
HABIT_WEIGHT = 0.05
HABIT_ONLY_SCALE = 0.3

# Endings in which a one-syllable word is not meant (약 in 식당예약 is no medicine).
_NOT_THE_SYLLABLE = ("예약", "계약", "절약", "요약", "공약", "선약", "특약", "조약")


@dataclass(frozen=True)
class CategorySuggestion:
    category: Category
    score: float


@dataclass(frozen=True)
class _Word:
    text: str  # normalized
    category: str  # a category's name
    weight: float


def _compile(kind: str) -> tuple[_Word, ...]:
    found = []
    for weight, table in ((PRIMARY_WEIGHT, PRIMARY), (SECONDARY_WEIGHT, SECONDARY)):
        for category, listed in table[kind].items():
            found.extend(_Word(normalize(text), category, weight) for text in listed)
    return tuple(word for word in found if word.text)


_KNOWLEDGE = {kind: _compile(kind) for kind in PRIMARY}


def _is_short_latin(text: str) -> bool:
    return len(text) <= 3 and text.isascii() and text.isalpha()


def _occurs(word: str, folded: str, pieces: list[str]) -> bool:
    """Whether `word` is in the description (`folded`: normalized; `pieces`: its words)."""
    if _is_short_latin(word):  # "cu" in "CU 편의점", not in "cute"
        for piece in pieces:
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
    if len(word) == 1:  # 약 in "두통약" or "약", not in "예약"
        return any(p.endswith(word) and not p.endswith(_NOT_THE_SYLLABLE) for p in pieces)
    return word in folded


def _knowledge(description: str, vocabulary) -> dict[str, float]:
    """Category name → the weight of the words of `vocabulary` found in the description. A
    word inside a longer word found there does not count (쿠팡 in 쿠팡와우)."""
    folded, pieces = normalize(description), words(description)
    hits = [word for word in vocabulary if _occurs(word.text, folded, pieces)]
    texts = {word.text for word in hits}
    votes: dict[str, float] = defaultdict(float)
    for word in hits:
        if not any(word.text != other and word.text in other for other in texts):
            votes[word.category] += word.weight
    return votes


def _key_weight(key: str) -> float:
    if key.startswith(WHOLE_PREFIX):
        return WHOLE_WEIGHT
    return TRIGRAM_WEIGHT if len(key) == 3 else GRAM_WEIGHT


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


def category_suggest(*, user, description: str, type: str) -> list[CategorySuggestion]:
    """Up to MAX_SUGGESTIONS categories `user` may use for a `type` transaction described
    so, best first, each with a score from 0 to 1 (see the module's docstring)."""
    categories = list(category_list(user=user))
    keys = grams(description)
    rows = SuggestionGram.objects.filter(
        user=user, type=type, gram__in=[ALL, *keys]
    ).values_list("gram", "category_id", "count", "weight")
    share, coverage, habits = _history(keys, rows)

    own = tuple(
        _Word(normalize(c.name), c.name, PRIMARY_WEIGHT) for c in categories if c.user_id
    )
    knowledge = _knowledge(description, _KNOWLEDGE[type] + own)
    known_words = sum(knowledge.values())

    by_id = {c.id: c for c in categories}
    by_name = {c.name: c.id for c in categories}
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
    order = {c.id: index for index, c in enumerate(categories)}
    ranked = sorted(
        (category_id for category_id in scores if category_id in by_id),
        key=lambda category_id: (-scores[category_id], order[category_id]),
    )
    return [
        CategorySuggestion(category=by_id[category_id], score=round(scores[category_id] * scale, 4))
        for category_id in ranked[:MAX_SUGGESTIONS]
    ]
