"""`manage.py seed_demo`: load a believable, deterministic demo company into an empty funnel."""

from __future__ import annotations

import sys
from argparse import ArgumentParser, ArgumentTypeError
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from demo.generator import DEMO_PASSWORD, DemoDataExists, SeedResult, seed_demo
from leads.models import Lead


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ArgumentTypeError("must be at least 1")
    return number


def _moment(value: str) -> datetime:
    moment = parse_datetime(value)
    if moment is None:
        raise ArgumentTypeError("use an ISO 8601 date and time, e.g. 2025-06-30T17:00:00Z")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = (
        "Load a demo company: users of both teams (password 'demo'), campaigns, and leads with "
        "their touches, stage events, handoffs, contact attempts and deals; the agreements, "
        "goals and forecasts; and the teams' meetings, ratings, ideas, field insights, "
        "spotlights and shadowing sessions. Refuses a database that already has leads unless "
        "--flush or --if-empty is given."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--leads", type=_positive, default=2000, help="default 2000")
        parser.add_argument(
            "--months", type=_positive, default=12, help="window ending today (default 12)"
        )
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument(
            "--now", type=_moment, help="the moment the window ends (default: now); "
            "the same seed and moment give the same data",
        )  # fmt: skip
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--flush",
            action="store_true",
            help="first delete every lead, campaign and funnel record, and what the demo "
            "writes with them (goals, meetings, ideas, insights...; users stay)",
        )
        mode.add_argument(
            "--if-empty", action="store_true", help="do nothing if the database has leads"
        )
        parser.add_argument("--chunk-size", type=_positive, default=10_000)
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Lead.objects.exists():
            self.stdout.write("The database already has leads: demo data not loaded.")
            return
        now = options["now"]
        if isinstance(now, str):  # call_command() passes options through unparsed
            now = _moment(now)
        try:
            result = seed_demo(
                leads=options["leads"],
                months=options["months"],
                seed=options["seed"],
                now=now,
                flush=options["flush"],
                chunk_size=options["chunk_size"],
                progress=not options["no_progress"] and sys.stderr.isatty(),
            )
        except DemoDataExists:
            raise CommandError(
                "The database already has leads. Run with --flush to replace them with the "
                "demo (this deletes every lead, campaign and funnel record)."
            ) from None
        if connection.vendor == "postgresql":
            # Bulk loads leave the planner without statistics until autovacuum comes by (or
            # never, where it is off): the first recompute would plan on guesses.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self._summary(result)

    def _summary(self, result: SeedResult) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded in {result.seconds:.1f} s "
                f"({result.first_day:%Y-%m-%d} to {result.now:%Y-%m-%d %H:%M} UTC):"
            )
        )
        width = max(len(label) for label in result.counts)
        for label, count in result.counts.items():
            self.stdout.write(f"  {label:<{width}}  {count:>12,}")
        self.stdout.write(f"Demo users log in with the password {DEMO_PASSWORD!r}.")
