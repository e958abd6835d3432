"""`manage.py dev_token --user <clerk_user_id or email> [--minutes 60]`: a local session token."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import dev_keys
from accounts.clerk import clerk_keys_configured
from accounts.models import User


class Command(BaseCommand):
    help = (
        "Print a session token signed by the local development key (created once under "
        ".dev-keys/). The server trusts it only with DEBUG on and no Clerk key configured; it is "
        "verified exactly like a Clerk token. Only the token goes to stdout: "
        "TOKEN=$(python manage.py dev_token --user user_dev)"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--user",
            required=True,
            help="a Clerk user id (user_…; created on first request if new) or a known email",
        )
        parser.add_argument("--minutes", type=int, default=60, help="lifetime (default 60)")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "dev_token needs DEBUG on (DJANGO_DEBUG=true): the server trusts the "
                "development key only then."
            )
        if clerk_keys_configured():
            raise CommandError(
                "A Clerk key is configured (CLERK_JWT_KEY, CLERK_JWKS_URL or CLERK_SECRET_KEY), "
                "so the server would not trust a development token. Unset them to use dev_token."
            )
        minutes = options["minutes"]
        if not 1 <= minutes <= 60 * 24 * 7:
            raise CommandError("--minutes must be between 1 and 10080 (a week).")
        clerk_user_id = self._clerk_user_id(options["user"].strip())
        created = not dev_keys.public_key_pem_exists()
        token = dev_keys.dev_token_mint(clerk_user_id=clerk_user_id, minutes=minutes)
        if created:
            self.stderr.write(f"Created the development key pair in {settings.DEV_KEYS_DIR}.")
        self.stderr.write(f"Token for {clerk_user_id}, valid {minutes} minutes:")
        self.stdout.write(token)

    def _clerk_user_id(self, value: str) -> str:
        if "@" not in value:
            if not value:
                raise CommandError("--user must not be empty.")
            return value
        user = User.objects.filter(email__iexact=value).exclude(clerk_user_id="").first()
        if user is None:
            raise CommandError(
                f"No Clerk user with the email {value}. Pass a Clerk user id (user_…) instead."
            )
        return user.clerk_user_id
