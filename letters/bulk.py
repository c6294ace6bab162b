"""Plain multi-row INSERTs (COPY on PostgreSQL) for bulk loads: roles, letters.

A million role rows through `bulk_create` cost a model instance, a field pre-save and
an SQL compilation each (~9,000 rows/s at 100k letters). Loaders that have already
checked their rows (the synthetic corpus, a data package frictionless has validated)
insert them here instead: no model instances, no signals, no history. Callers refresh
the stored footprint and searched names afterwards (`footprint.refresh`; the import
writes the names with its letters and, on SQLite, skips that part).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db import OperationalError, connection, models

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
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: one stream instead of a statement per row (1.1M signatures
            # at 100k letters: 70 s as INSERTs, see docs/benchmarks.md).
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        sql = (
            f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
        )
        for batch in batches(rows, BATCH):
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def instance_rows(model, objects: Iterable) -> tuple[list[str], Iterator[tuple]]:
    """The columns of `model` (every concrete field but its automatic id) and, read
    lazily from `objects`, each unsaved instance's values as bulk_create would send
    them, for insert_rows. Field pre-saves do not run: timestamps are the caller's
    to set (auto_now would overwrite the ones a package carries anyway). Text,
    numbers, booleans and foreign ids go as they are; other fields (dates, JSON)
    through their own database preparation. At 100k letters bulk_create spent more
    time compiling its SQL (a prepared value per field per row) than SQLite spent
    writing the rows."""
    fields = [f for f in model._meta.concrete_fields if f is not model._meta.auto_field]
    as_is = (
        models.CharField,
        models.TextField,
        models.BooleanField,
        models.IntegerField,
        models.ForeignKey,
    )
    prepare = [
        None
        if isinstance(f, as_is)
        else functools.partial(f.get_db_prep_save, connection=connection)
        for f in fields
    ]
    names = [f.attname for f in fields]
    plan = list(zip(names, prepare, strict=True))

    def rows() -> Iterator[tuple]:
        for obj in objects:
            values = obj.__dict__
            yield tuple(
                values[name] if step is None else step(values[name])
                for name, step in plan
            )

    return [f.column for f in fields], rows()


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


def _plain_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the table's non-unique secondary indexes, as the
    database itself has them (partial and covering ones included)."""
    if connection.vendor == "sqlite":
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = %s AND sql IS NOT NULL ORDER BY name",
            [table],
        )
    else:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename = %s "
            "ORDER BY indexname",
            [table],
        )
    return [
        (name, sql)
        for name, sql in cursor.fetchall()
        if not sql.upper().startswith("CREATE UNIQUE")
    ]


@contextmanager
def indexes_deferred(*models) -> Iterator[None]:
    """Load these tables without their plain secondary indexes, then build them in
    one pass each: inserting 1.1 million signatures through seven B-trees row by row
    costs more than sorting them once. Unique indexes stay (they are constraints).
    Only inside a transaction: if the load fails, the rollback restores the dropped
    indexes on both engines (their DDL is transactional)."""
    if not connection.in_atomic_block:
        raise RuntimeError("indexes_deferred needs a transaction")
    quote = connection.ops.quote_name
    dropped: list[str] = []
    with connection.cursor() as cursor:
        for model in models:
            for name, sql in _plain_indexes(cursor, model._meta.db_table):
                cursor.execute(f"DROP INDEX {quote(name)}")
                dropped.append(sql)
    yield
    with connection.cursor() as cursor:
        if dropped and connection.vendor == "postgresql":
            # PostgreSQL builds no index on a table with pending deferred checks
            # (the foreign keys are INITIALLY DEFERRED): run them now, then defer
            # again for the rest of the transaction, as the constraints declare.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for sql in dropped:
            cursor.execute(sql)


@contextmanager
def rollback_journal() -> Iterator[None]:
    """SQLite: run a bulk load through a rollback journal instead of the WAL (the
    archive's mode, set on every connection by settings). In WAL mode every page of
    a 900 MB load is written twice, to the WAL and then, at the commit's checkpoint,
    to the database (3.6 s of commit at 100k letters); a rollback journal only keeps
    the original of pages that existed, next to nothing in an empty archive. The
    transaction stays atomic either way (a killed load is rolled back from the
    journal when the file is next opened). WAL is back once the load is over, and
    any new connection sets it again. Leaving WAL needs the file to itself: if
    another connection has it open, the load keeps the WAL. Outside a transaction
    only: SQLite refuses to change the journal inside one."""
    switched = False
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            if cursor.fetchone()[0] == "wal":
                try:
                    cursor.execute("PRAGMA journal_mode=DELETE")
                    switched = cursor.fetchone()[0] == "delete"
                except OperationalError:  # another connection holds the file
                    switched = False
    try:
        yield
    finally:
        if switched:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA journal_mode=WAL")


@contextmanager
def search_index_deferred() -> Iterator[None]:
    """SQLite keeps the letters' full-text index (FTS5) by triggers: a bulk load
    tokenized each transcription three times (on INSERT, then on the UPDATE of its
    names: the old row out, the new one in). Here the triggers are dropped for the
    load and the index rebuilt once at the end, in the same transaction (a failed
    load rolls the drop back). PostgreSQL's document is a generated column: nothing
    to defer there."""
    if connection.vendor != "sqlite":
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("search_index_deferred needs a transaction")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'letters_letter' AND name LIKE 'letters_letter_fts_%' "
            "ORDER BY name"
        )
        triggers = cursor.fetchall()
        for name, _sql in triggers:
            cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        for _name, sql in triggers:
            cursor.execute(sql)
        cursor.execute(
            "INSERT INTO letters_letter_fts(letters_letter_fts) VALUES ('rebuild')"
        )
