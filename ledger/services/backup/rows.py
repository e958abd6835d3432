"""Normalised rows: what the parse step (`normalize`) hands to the write step (`write`)."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

# A category as a row names it: (name, possibly with an emoji prefix; the emoji to create it with).
NamedCategory = tuple[str, str]


@dataclass(slots=True)
class CategoryRow:
    index: int
    name: str
    emoji: str


@dataclass(slots=True)
class RuleRow:
    index: int
    ref: str | None  # the id other rows of the file use for it
    key: str  # remembered as legacy_id
    template_name: str
    description: str
    amount: Decimal | None
    type: str
    category: NamedCategory | None
    frequency: str
    start_date: datetime.date
    end_date: datetime.date | None
    day_of_month: int
    is_active: bool
    is_variable_amount: bool
    occurrence_dates: list[datetime.date]


@dataclass(slots=True)
class TransactionRow:
    index: int
    key: str  # remembered as legacy_id
    server_id: str | None  # this API's export: the row's id on the server it came from
    date: datetime.date
    description: str
    amount: Decimal | None  # None: a pending occurrence of a variable-amount rule
    type: str
    category: NamedCategory | None
    status: str
    rule_ref: str | None
