"""The ledger's data: ledgers and their members, categories, recurring rules, transactions.

Business rules live in `ledger/services/` and `ledger/selectors/`; the models hold the
schema and the invariants PostgreSQL enforces (CHECK and UNIQUE constraints).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

MONEY = {"max_digits": 15, "decimal_places": 2}


def _import_hash_field() -> models.CharField:
    """The importer's content hash of a row; empty for rows it never wrote. The database
    default too, so bulk loads that name their columns (COPY) need not know it."""
    return models.CharField(max_length=64, blank=True, default="", db_default="", editable=False)


class TransactionType(models.TextChoices):
    INCOME = "income", "수입"
    EXPENSE = "expense", "지출"


class TransactionStatus(models.TextChoices):
    CONFIRMED = "confirmed", "확정"
    SCHEDULED = "scheduled", "예정"


class Frequency(models.TextChoices):
    MONTHLY = "monthly", "매월"
    YEARLY = "yearly", "매년"


class LedgerRole(models.TextChoices):
    OWNER = "owner", "owner"
    EDITOR = "editor", "editor"
    VIEWER = "viewer", "viewer"


class Ledger(models.Model):
    """What the data belongs to (가계부): a user's personal ledger, or one a household shares.

    Every table of ledger data carries `ledger_id` itself and leads its unique keys and hot
    indexes with it, so the schema can be distributed by ledger later. `revision` is bumped by
    every write to the ledger's data in the same database transaction (ledger.services.
    revisions): it names a state of the data — the ETag of its reads and the cursor of /sync.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    # Set on the one personal ledger of each user (created on first sight); NULL when shared.
    personal_for = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="personal_ledger",
    )
    revision = models.BigIntegerField(default=0, db_default=0, editable=False)
    # Tombstones up to this revision were purged (SYNC_TOMBSTONE_DAYS): a sync from an older
    # revision cannot say what was deleted and must start again from 0.
    sync_floor = models.BigIntegerField(default=0, db_default=0, editable=False)
    # How many transactions the ledger holds, kept by the services that add or remove them in
    # the same database transaction (ledger.services.revisions.transaction_count_add): the
    # list's page count without counting the ledger's rows (4 ms at 30,000).
    transaction_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    # A shared ledger left without members (its last owner's account deleted): purged with its
    # data after ACCOUNT_PURGE_DAYS.
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name

    @property
    def is_personal(self) -> bool:
        return self.personal_for_id is not None


class Membership(models.Model):
    """A user's role in a ledger. A ledger always has at least one owner (ledger.services)."""

    id = models.BigAutoField(primary_key=True)
    # No index of its own on `ledger`: the unique (ledger, user) serves it — and serves the
    # one membership check of every request.
    ledger = models.ForeignKey(
        Ledger, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=LedgerRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ledger", "user"], name="membership_one_per_user"),
            models.CheckConstraint(
                condition=Q(role__in=LedgerRole.values), name="membership_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.user_id} {self.role} of {self.ledger_id}"


class Invitation(models.Model):
    """A single-use, expiring code that makes whoever accepts it a member with `role`.

    Found by `code_digest` (SHA-256 of the code), so a lookup's timing tells nothing about the
    code; `code` itself is kept so the ledger's owners can share or revoke it again.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    ledger = models.ForeignKey(Ledger, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=10, choices=LedgerRole.choices)
    # When set, only a user with this email may accept.
    email = models.EmailField(blank=True, default="")
    code = models.CharField(max_length=64)
    code_digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=LedgerRole.values), name="invitation_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.role} invitation to {self.ledger_id}"


class Category(models.Model):
    """A spending/income category. `ledger` NULL means a global default shared by everyone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the unique (ledger, name) serves it.
    ledger = models.ForeignKey(
        Ledger,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="categories",
        db_index=False,
    )
    name = models.CharField(max_length=100)
    emoji = models.CharField(max_length=10, blank=True, default="")
    is_default = models.BooleanField(default=False)
    # Defaults keep the SPA's order; a ledger's own categories sort after them by name.
    sort_order = models.PositiveSmallIntegerField(default=1000)
    # The owner's revision at this row's last change (ledger.services.revisions): delta sync.
    revision = models.BigIntegerField(default=0, db_default=0, editable=False)
    # What the browser and the server last agreed on (ledger.services.backup.merge).
    import_hash = _import_hash_field()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["-is_default", "sort_order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["ledger", "name"],
                condition=Q(ledger__isnull=False),
                name="category_name_unique_per_ledger",
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(ledger__isnull=True),
                name="category_default_name_unique",
            ),
            models.CheckConstraint(
                condition=Q(is_default=True, ledger__isnull=True)
                | Q(is_default=False, ledger__isnull=False),
                name="category_default_iff_global",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="category_name_not_blank"),
        ]

    def __str__(self):
        return f"{self.emoji} {self.name}".strip()


class RecurringTransaction(models.Model):
    """A rule that yields one transaction per month (or year) on `day_of_month`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: (ledger, is_active) and the other composites below lead with it.
    ledger = models.ForeignKey(
        Ledger, on_delete=models.CASCADE, related_name="recurring_rules", db_index=False
    )
    # Who entered the row (a member of the ledger then); NULL when unknown or their account
    # is gone. The row stays in the ledger either way.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    template_name = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True, default="")
    amount = models.DecimalField(**MONEY, null=True, blank=True)
    type = models.CharField(max_length=10, choices=TransactionType.choices)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="recurring_rules"
    )
    frequency = models.CharField(
        max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    day_of_month = models.PositiveSmallIntegerField()
    is_active = models.BooleanField(default=True)
    is_variable_amount = models.BooleanField(default=False)
    # The id the rule had in the browser's IndexedDB, so re-imports do not duplicate it.
    legacy_id = models.CharField(max_length=64, blank=True, default="")
    # The owner's revision at this row's last change (ledger.services.revisions): delta sync.
    revision = models.BigIntegerField(default=0, db_default=0, editable=False)
    # What the browser and the server last agreed on (ledger.services.backup.merge).
    import_hash = _import_hash_field()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["template_name", "created_at"]
        indexes = [
            models.Index(fields=["ledger", "is_active"], name="recurring_ledger_active_idx"),
            models.Index(fields=["ledger", "revision"], name="recurring_ledger_revision_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=TransactionType.values), name="recurring_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(frequency__in=Frequency.values), name="recurring_frequency_valid"
            ),
            models.CheckConstraint(
                condition=Q(day_of_month__gte=1, day_of_month__lte=31),
                name="recurring_day_of_month_range",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=False, amount__gt=0)
                | Q(amount__isnull=True, is_variable_amount=True),
                name="recurring_amount_positive_or_variable",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="recurring_end_after_start",
            ),
            models.UniqueConstraint(
                fields=["ledger", "legacy_id"],
                condition=~Q(legacy_id=""),
                name="recurring_legacy_id_unique_per_ledger",
            ),
        ]

    def __str__(self):
        return self.template_name


class Transaction(models.Model):
    """One income or expense on a date. `amount` is positive; `type` gives the sign."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own on `ledger` or `recurring`: the composite indexes below start with
    # `ledger`, and the partial unique (recurring, date) serves `recurring` — a duplicate index
    # only slows every write and every plan (measured: calendar planning 0.29 → 0.2 ms).
    ledger = models.ForeignKey(
        Ledger,
        on_delete=models.CASCADE,
        related_name="transactions",
        db_index=False,
    )
    # Who entered the row (a member of the ledger then); NULL when unknown or their account
    # is gone. The row stays in the ledger either way.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    date = models.DateField()
    description = models.CharField(max_length=500)
    # NULL only for a scheduled occurrence of a variable-amount rule ("amount pending").
    amount = models.DecimalField(**MONEY, null=True, blank=True)
    type = models.CharField(max_length=10, choices=TransactionType.choices)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="transactions"
    )
    status = models.CharField(
        max_length=10, choices=TransactionStatus.choices, default=TransactionStatus.CONFIRMED
    )
    recurring = models.ForeignKey(
        RecurringTransaction,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="transactions",
        db_index=False,
    )
    # The id the row had in the browser's IndexedDB, so re-imports do not duplicate it.
    legacy_id = models.CharField(max_length=64, blank=True, default="")
    # The owner's revision at this row's last change (ledger.services.revisions): delta sync.
    revision = models.BigIntegerField(default=0, db_default=0, editable=False)
    # What the browser and the server last agreed on (ledger.services.backup.merge).
    import_hash = _import_hash_field()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "-created_at"]
        indexes = [
            models.Index(fields=["ledger", "revision"], name="transaction_ledger_rev_idx"),
            # A ledger's list (newest first: a backward scan) and calendar (by date, then
            # creation order) read in index order: no sort, however many rows the ledger has.
            models.Index(
                fields=["ledger", "date", "created_at", "id"], name="transaction_ledger_date_idx"
            ),
            models.Index(fields=["ledger", "category"], name="transaction_ledger_cat_idx"),
            # Covers the stats aggregates (ledger.selectors.stats): index-only scans over a
            # ledger's date range, however scattered its rows are in the table.
            models.Index(
                fields=["ledger", "date"],
                include=["type", "status", "amount", "category", "created_by"],
                name="transaction_ledger_stats_idx",
            ),
            # The admin's all-ledgers list (newest first) and its date drill-down at 1M rows.
            models.Index(F("date").desc(), F("id").desc(), name="transaction_date_id_idx"),
            models.Index(
                fields=["status", "date"],
                condition=Q(status="scheduled"),
                name="transaction_scheduled_idx",
            ),
            # A ledger's pending occurrences (no amount yet, a few at most) for budget versus
            # actual's estimates, without reading other ledgers' scheduled rows.
            models.Index(
                fields=["ledger", "date"],
                condition=Q(amount__isnull=True),
                name="transaction_pending_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=TransactionType.values), name="transaction_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=TransactionStatus.values), name="transaction_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=False, amount__gt=0)
                | Q(amount__isnull=True, status="scheduled", recurring__isnull=False),
                name="transaction_amount_positive_or_pending",
            ),
            models.UniqueConstraint(
                fields=["recurring", "date"],
                condition=Q(recurring__isnull=False),
                name="transaction_one_per_recurring_date",
            ),
            models.UniqueConstraint(
                fields=["ledger", "legacy_id"],
                condition=~Q(legacy_id=""),
                name="transaction_legacy_id_unique_per_ledger",
            ),
        ]

    def __str__(self):
        return f"{self.date} {self.description} {self.amount}"


class MonthSummary(models.Model):
    """A ledger's transactions summed per (month, category, type, status, author): what the
    month-grained figures read (total assets, the trend, budget versus actual) instead of every
    transaction of the months.

    Kept by the transaction services in the database transaction of each write
    (`ledger.services.month_summaries`); a group whose last transaction goes is deleted.
    `category_id` and `created_by_id` are the transactions' values, not foreign keys: a
    category or an account is deleted after its transactions were moved off it (the services
    move them, and the summary with them), and a summary row must never vanish by a cascade.
    """

    ledger = models.ForeignKey(Ledger, on_delete=models.CASCADE, related_name="+", db_index=False)
    month = models.DateField()  # the first day
    category_id = models.UUIDField(null=True)
    type = models.CharField(max_length=10, choices=TransactionType.choices)
    status = models.CharField(max_length=10, choices=TransactionStatus.choices)
    created_by_id = models.UUIDField(null=True)
    # The sum of the amounts (a pending amount adds 0), how many rows, how many of them pending.
    total = models.DecimalField(max_digits=20, decimal_places=2)
    count = models.IntegerField()
    pending = models.IntegerField()

    class Meta:
        constraints = [
            # One row per group, NULL category or author included (the upsert's conflict key).
            models.UniqueConstraint(
                fields=["ledger", "month", "category_id", "type", "status", "created_by_id"],
                name="month_summary_group_unique",
                nulls_distinct=False,
            ),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.type} {self.status} {self.total} ({self.count})"


class RecurringOccurrence(models.Model):
    """A record that a rule's occurrence on `date` was materialized once.

    The engine creates a transaction only for dates with no record here, so an occurrence
    the user deleted is never re-created, even though its transaction row is gone.
    """

    # The rule's ledger, carried on the row itself (distribution by ledger); no index of its
    # own: its rows are found through the rule.
    ledger = models.ForeignKey(Ledger, on_delete=models.CASCADE, related_name="+", db_index=False)
    recurring = models.ForeignKey(
        RecurringTransaction, on_delete=models.CASCADE, related_name="occurrences"
    )
    date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recurring", "date"], name="occurrence_one_per_recurring_date"
            ),
        ]

    def __str__(self):
        return f"{self.recurring_id} @ {self.date}"

    def save(self, *args, **kwargs):
        if self.ledger_id is None and self.recurring_id is not None:
            self.ledger_id = self.recurring.ledger_id  # the rule's ledger, always
        super().save(*args, **kwargs)


class SyncKind(models.TextChoices):
    """The kinds of rows `/sync` delivers (and their tombstones name)."""

    TRANSACTION = "transactions", "transaction"
    RECURRING = "recurring", "recurring rule"
    CATEGORY = "categories", "category"
    BUDGET = "budgets", "budget change"


class Tombstone(models.Model):
    """A deleted row, kept for `SYNC_TOMBSTONE_DAYS` so offline clients learn of the deletion.

    `revision` is the owner's revision of the deletion. Purged tombstones raise the owner's
    `sync_floor`: a client whose last revision is below it must reload everything.
    """

    id = models.BigAutoField(primary_key=True)
    ledger = models.ForeignKey(Ledger, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=20, choices=SyncKind.choices)
    object_id = models.UUIDField()
    revision = models.BigIntegerField()
    deleted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["ledger", "revision"], name="tombstone_ledger_revision_idx"),
            models.Index(fields=["deleted_at"], name="tombstone_deleted_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=SyncKind.values), name="tombstone_kind_valid"
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.object_id} @ {self.revision}"


class IdempotencyRecord(models.Model):
    """The first answer to a write sent with `Idempotency-Key`, replayed to its retries.

    Stored in the same database transaction as the write itself, so a write and its record
    commit or vanish together; kept IDEMPOTENCY_KEY_HOURS (24).
    """

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=255)
    # SHA-256 of the method, the path and the body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100, blank=True, default="")
    body = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_at_idx")]

    def __str__(self):
        return f"{self.key} → {self.status_code}"


class SuggestionGram(models.Model):
    """What a household called what (derived data, for category suggestions): how many of the
    user's `type` transactions filed under `category` have `gram` in their description, and
    their recency-weighted sum (`ledger.suggestion_grams`). `gram` "" counts every such row.

    Kept by `ledger.services.suggestions` inside every write of `ledger.services.
    transactions`, so a suggestion reflects the last write at once. Read by one indexed query
    per suggestion (the primary key's prefix: user, type, gram), however many rows the user
    has. Deleting a category or a user deletes its rows (their transactions teach nothing
    any more: they are uncategorized, or gone).
    """

    pk = models.CompositePrimaryKey("ledger", "type", "gram", "category")
    ledger = models.ForeignKey(Ledger, on_delete=models.CASCADE, related_name="+", db_index=False)
    type = models.CharField(max_length=10, choices=TransactionType.choices)
    # "C": grams are compared for equality only, and byte order is the cheapest order.
    gram = models.CharField(max_length=40, blank=True, db_collation="C")
    # Indexed (the default): deleting a category finds its rows without a scan.
    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="suggestion_grams"
    )
    count = models.IntegerField()
    weight = models.FloatField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=TransactionType.values), name="suggestion_gram_type_valid"
            ),
        ]

    def __str__(self):
        return f"{self.type} {self.gram!r} → {self.category_id}: {self.count}"


class Budget(models.Model):
    """A change of a user's budget: from `month` (its first day) on, until a later change.

    The budget in effect for a month is the change of the latest month at or before it
    (`ledger.selectors.budgets`); `total` NULL means no overall limit, only the lines.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own on `ledger`: the unique (ledger, month) serves it.
    ledger = models.ForeignKey(
        Ledger, on_delete=models.CASCADE, related_name="budgets", db_index=False
    )
    month = models.DateField()
    total = models.DecimalField(**MONEY, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The owner's revision at this change's last write (ledger.services.revisions): delta sync.
    revision = models.BigIntegerField(default=0, db_default=0, editable=False)

    class Meta:
        ordering = ["ledger", "month"]
        indexes = [models.Index(fields=["ledger", "revision"], name="budget_ledger_revision_idx")]
        constraints = [
            models.UniqueConstraint(fields=["ledger", "month"], name="budget_one_per_ledger_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="budget_month_first_day"),
            models.CheckConstraint(
                condition=Q(total__isnull=True) | Q(total__gt=0), name="budget_total_positive"
            ),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m}"


class BudgetLine(models.Model):
    """One expense category's monthly amount within a budget change.

    Deleting the category deletes its lines (CASCADE): its transactions become uncategorized,
    so there is nothing left to hold against the amount.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The budget's ledger, carried on the row itself (distribution by ledger).
    ledger = models.ForeignKey(Ledger, on_delete=models.CASCADE, related_name="+", db_index=False)
    # No index of its own on `budget`: the unique (budget, category) serves it.
    budget = models.ForeignKey(
        Budget, on_delete=models.CASCADE, related_name="lines", db_index=False
    )
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="budget_lines")
    amount = models.DecimalField(**MONEY)
    # What was left (or overspent) the month before adds to this month's amount.
    carry_over = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "category"], name="budget_line_one_per_category"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="budget_line_amount_positive"),
        ]

    def __str__(self):
        return f"{self.category_id}: {self.amount}"
