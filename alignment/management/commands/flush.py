"""Django's `flush`, which on SQLite empties the tables whose triggers refuse a DELETE too.

The audit log refuses to lose an entry: a trigger raises on DELETE (migration
`alignment.0008_audit_log`). Emptying the whole database is another thing: PostgreSQL's flush
is a TRUNCATE, which fires no row trigger, but SQLite's is a DELETE per table. Here, on SQLite,
the triggers are taken off for the flush and put back as they were, in one transaction (SQLite
rolls DDL back too), so that `flush` and the test runner's flush between transactional tests
empty the database on both. Anything but a flush still meets the triggers.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections, transaction


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        database = options["database"]
        connection = connections[database]
        if connection.vendor != "sqlite":
            super().handle(**options)
            return
        with transaction.atomic(using=database):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL"
                )
                triggers = cursor.fetchall()
                for name, _ in triggers:
                    cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
            super().handle(**options)
            with connection.cursor() as cursor:
                for _, sql in triggers:
                    cursor.execute(sql)
