"""Plain multi-row INSERTs for the role tables.

A million role rows through `bulk_create` cost a model instance, a field pre-save and
an SQL compilation each (~9,000 rows/s at 100k letters). Loaders that have already
checked their rows (the synthetic corpus, a data package frictionless has validated)
insert them here instead: no model instances, no signals, no history. Callers refresh
the stored footprint and searched names afterwards (`footprint.refresh`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db import connection

BATCH = 10_000
EMPTY_SNAPSHOT = "{}"


def batches(items: Iterable, size: int) -> Iterator[list]:
    """Lists of at most `size` items, read lazily from `items`."""
    it = iter(items)
    while batch := list(itertools.islice(it, size)):
        yield batch


def insert_rows(model, columns: list[str], rows: Iterable[tuple]) -> int:
    """INSERT `rows` (tuples in the order of `columns`, database column names) into
    `model`'s table in batches read lazily from `rows`; returns the number inserted.

    `created_at`, `updated_at` and `seed_snapshot` are the caller's to give when the
    model has them (see `stamp`)."""
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(c) for c in columns)}) VALUES "
        f"({', '.join(['%s'] * len(columns))})"
    )
    count = 0
    with connection.cursor() as cursor:
        for batch in batches(rows, BATCH):
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


STAMP_COLUMNS = ["created_at", "updated_at", "seed_snapshot"]


def stamp(when: datetime) -> tuple:
    """Values of STAMP_COLUMNS for a row created and last changed at `when`."""
    value = connection.ops.adapt_datetimefield_value(when)
    return (value, value, EMPTY_SNAPSHOT)


def refresh_statistics() -> None:
    """After a bulk load has committed: planner statistics for tables that just grew
    a hundredfold (SQLite keeps none until asked; PostgreSQL's autovacuum would get
    there later). On PostgreSQL, outside a transaction, VACUUM too: it marks the new
    pages all-visible, so counts are answered by index-only scans at once
    (letter_published_ids) instead of after autovacuum's next visit."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            cursor.execute("VACUUM (ANALYZE)")
        else:
            cursor.execute("ANALYZE")
