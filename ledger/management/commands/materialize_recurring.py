"""`manage.py materialize_recurring`: run the recurring engine now, for everyone or one user."""

import contextlib
import datetime
import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from ledger.dates import month_end
from ledger.services.ledgers import personal_ledger
from ledger.services.recurring.engine import (
    DEFAULT_BATCH_SIZE,
    recurring_horizon,
    recurring_materialize_all,
)

_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _through(value: str) -> datetime.date:
    """`YYYY-MM` → that month's last day; `YYYY-MM-DD` as it is."""
    try:
        if match := _YEAR_MONTH.match(value):
            return month_end(datetime.date(int(match[1]), int(match[2]), 1))
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--through: expected YYYY-MM or YYYY-MM-DD, got {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Materialize recurring rules' missing occurrences through the horizon (the rest of this "
        "month and next, RECURRING_HORIZON_MONTHS) or --through, printing what it creates. "
        "The same service the Celery task runs; safe to run while the task runs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--user",
            help="only this user's rules: a user id, Clerk user id, username or e-mail",
        )
        parser.add_argument("--through", help="last month (YYYY-MM) or date (YYYY-MM-DD)")
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would be created; write nothing"
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)

    def handle(self, *args, user=None, through=None, dry_run=False, batch_size=None, **options):
        verbosity = options["verbosity"]
        owner = self._user(user) if user else None
        through_date = _through(through) if through else recurring_horizon()
        # Every created transaction is listed for one user or a dry run; for everyone with -v 2.
        detailed = verbosity >= 2 or (verbosity >= 1 and (owner is not None or dry_run))

        def report(created):
            if not detailed:
                return
            for t in created:
                amount = "pending" if t.amount is None else f"{t.amount:,.0f}"
                self.stdout.write(
                    f"{t.date}  {t.status:<9}  {t.type:<7}  {amount:>14}  "
                    f"{t.description}  (rule {t.recurring_id}, ledger {t.ledger_id})"
                )

        result = recurring_materialize_all(
            through=through_date,
            ledger=personal_ledger(user=owner) if owner is not None else None,
            batch_size=batch_size or DEFAULT_BATCH_SIZE,
            dry_run=dry_run,
            report=report,
        )
        verb = "would create" if dry_run else "created"
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.rules} active rule(s) through {through_date}: "
                f"{verb} {result.created} transaction(s)."
            )
        )

    def _user(self, value):
        User = get_user_model()
        match = Q(clerk_user_id=value) | Q(username=value) | Q(email__iexact=value)
        with contextlib.suppress(ValidationError):  # not a UUID: not an id
            match |= Q(pk=User._meta.pk.to_python(value))
        users = list(User.objects.filter(match)[:2])
        if len(users) != 1:
            raise CommandError(
                f"--user {value!r}: "
                + ("no such user." if not users else "matches several users; use the id.")
            )
        return users[0]
