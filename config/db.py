"""Database helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models, transaction


def update_rows(
    model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str]
) -> int:
    """UPDATE these objects' `fields` by primary key with one executemany.

    Django's bulk_update builds one CASE expression per field and batch, which grows slow
    past a few thousand rows; a prepared UPDATE run many times is linear and fast on both
    SQLite and PostgreSQL (psycopg pipelines it).
    """
    if not objs:
        return 0
    meta = model._meta
    concrete = [meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in concrete)
    sql = (
        f"UPDATE {connection.ops.quote_name(meta.db_table)} SET {assignments} "
        f"WHERE {connection.ops.quote_name(meta.pk.column)} = %s"
    )
    params = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in concrete] + [obj.pk]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(params)


def rows_sync(
    model: type[models.Model],
    *,
    gone: Sequence[int],
    rows: Sequence[models.Model],
    unique_fields: Sequence[str],
    update_fields: Sequence[str],
    chunk: int = 5000,
) -> None:
    """In one transaction, delete the rows whose ids are `gone` and insert `rows`, updating
    `update_fields` of those that exist on `unique_fields` (INSERT … ON CONFLICT)."""
    with transaction.atomic():
        for start in range(0, len(gone), chunk):
            model.objects.filter(pk__in=gone[start : start + chunk]).delete()
        model.objects.bulk_create(
            rows,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=list(unique_fields),
            update_fields=list(update_fields),
        )


def insert_rows(model: type[models.Model], objs: Sequence[models.Model]) -> int:
    """INSERT these new objects with one executemany of a prepared statement (their primary
    keys are not read back): for append-only rows written in bulk, where `bulk_create`'s
    per-batch statement building and RETURNING cost more than the rows."""
    if not objs:
        return 0
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES ({marks})"
    params = [
        [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields] for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(params)
