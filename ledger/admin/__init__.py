"""The support staff's admin for the ledger: transactions, recurring rules, categories, budgets.

Built to stay fast with ~1,000,000 transactions and ~10,000 users: related rows come with
`list_select_related`, users are picked by raw id (never a dropdown of every user), the
category filter lists only the defaults (plus the filtered user's own), and the paginator
avoids counting a whole million-row table (`shared.LargeTablePaginator`).

Every write goes through the ledger's services, as the API's do: a save, a delete and each
action call `ledger.services.*`, never a model's `save()`/`delete()`.

Roles (see ledger/roles.py): superusers may change everything the services allow; anyone else
(the `support` group) may change only a transaction's status and category and a rule's active
flag — every other field is read-only for them, whatever they POST.

Django's autodiscovery imports this package; each module registers its ModelAdmin.
"""

from ledger.admin.budgets import BudgetAdmin
from ledger.admin.categories import CategoryAdmin
from ledger.admin.ledgers import InvitationAdmin, LedgerAdmin
from ledger.admin.occurrences import RecurringOccurrenceAdmin
from ledger.admin.recurring import RecurringTransactionAdmin
from ledger.admin.transactions import TransactionAdmin

__all__ = [
    "BudgetAdmin",
    "CategoryAdmin",
    "InvitationAdmin",
    "LedgerAdmin",
    "RecurringOccurrenceAdmin",
    "RecurringTransactionAdmin",
    "TransactionAdmin",
]
