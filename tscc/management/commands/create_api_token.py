"""Create an API token for a user and print its secret, once.

    manage.py create_api_token amy --name "SOAR connector" --expires-days 90

The secret is not stored (only its SHA-256), so it cannot be shown again;
revoke the token in the admin and create a new one if it is lost.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tscc.models import User
from tscc.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print its secret once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="Which client uses the token.")
        parser.add_argument(
            "--expires-days",
            type=int,
            default=None,
            help="Days until the token expires (default: never).",
        )

    def handle(self, *args, username: str, name: str, expires_days: int | None, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if expires_days is not None and expires_days <= 0:
            raise CommandError("--expires-days must be at least 1.")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        try:
            token, secret = api_token_create(
                actor=None, user=user, name=name, expires_at=expires_at
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stderr.write(
            f"Token {token.name!r} ({token.prefix}…) for {user.username} "
            f"(role {user.role}), expires {token.expires_at or 'never'}. "
            "Copy the secret now: it is not stored and will not be shown again."
        )
        self.stdout.write(secret)
