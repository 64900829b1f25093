from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from alignment.services.accounts import api_token_get_or_create, api_token_rotate


class Command(BaseCommand):
    help = "Print the API token of USERNAME, creating it if needed (--rotate issues a new one)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true", help="Replace an existing token.")

    def handle(self, *args: object, username: str, rotate: bool, **options: object) -> None:
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        token = api_token_rotate(user=user) if rotate else api_token_get_or_create(user=user)
        self.stdout.write(token.key)
