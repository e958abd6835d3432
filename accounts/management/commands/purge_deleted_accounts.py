"""`manage.py purge_deleted_accounts [--days N] [--dry-run]`."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.services.users import user_purge_deleted


class Command(BaseCommand):
    help = (
        "Delete users deleted in Clerk more than ACCOUNT_PURGE_DAYS days ago, with all their "
        "data, and forget webhook deliveries that old. Celery beat runs the same service daily "
        "(accounts.tasks.purge_deleted_accounts)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=None, help="override ACCOUNT_PURGE_DAYS for this run"
        )
        parser.add_argument("--dry-run", action="store_true", help="count only, delete nothing")

    def handle(self, *args, **options):
        days = options["days"] if options["days"] is not None else settings.ACCOUNT_PURGE_DAYS
        if days < 0:
            raise CommandError("--days must not be negative.")
        counts = user_purge_deleted(older_than_days=days, dry_run=options["dry_run"])
        verb = "Would purge" if options["dry_run"] else "Purged"
        self.stdout.write(
            f"{verb} {counts['users']} user(s) deleted more than {days} days ago, "
            f"{counts['ledgers']} shared ledger(s) left without an owner that long, "
            f"and {counts['webhook_events']} old webhook record(s)."
        )
