from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from demo.generator import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Print the demo logins that exist in this database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="where the app runs")

    def handle(self, *args: object, url: str, **options: object) -> None:
        present = set(
            get_user_model()
            .objects.filter(username__in=[u.username for u in DEMO_USERS])
            .values_list("username", flat=True)
        )
        if not present:
            self.stdout.write("No demo users here; create one with `manage.py createsuperuser`.")
            return
        self.stdout.write(
            f"\nTandem is starting at {url} — log in as (password '{DEMO_PASSWORD}'):"
        )
        for user in DEMO_USERS:
            if user.username in present:
                self.stdout.write(f"  {user.username:<8} {user.role.label:<18} {user.title}")
        self.stdout.write("")
