from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from leads.demo import DEMO_LOGINS, DEMO_PASSWORD


class Command(BaseCommand):
    help = "Print the demo logins that exist in this database."

    def handle(self, *args: object, **options: object) -> None:
        present = set(
            get_user_model()
            .objects.filter(username__in=[u for u, _ in DEMO_LOGINS])
            .values_list("username", flat=True)
        )
        if not present:
            self.stdout.write("No demo users here; create one with `manage.py createsuperuser`.")
            return
        self.stdout.write(
            f"\nTandem is starting at http://127.0.0.1:8000 — log in as (password '{DEMO_PASSWORD}'):"
        )
        for username, role in DEMO_LOGINS:
            if username in present:
                self.stdout.write(f"  {username:<10} {role}")
        self.stdout.write("")
