"""Every foreign key of the archive's tables leads an index, on both engines: lookups
by a letter, person or organisation (deleting one, the PROTECT checks, the filters)
never scan a role table. Migrations 0018 and 0019 dropped single-column foreign-key
indexes that composite ones serve; this is what must stay true after such a drop."""

import pytest
from django.apps import apps
from django.db import connection


def _partial_indexes(cursor, table: str) -> set[str]:
    """Django's introspection does not say which indexes have a condition."""
    if connection.vendor == "sqlite":
        cursor.execute(f"PRAGMA index_list({connection.ops.quote_name(table)})")
        return {row[1] for row in cursor.fetchall() if row[4]}  # (…, partial)
    cursor.execute(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass AND i.indpred IS NOT NULL",
        [table],
    )
    return {row[0] for row in cursor.fetchall()}


def _indexes(table: str) -> dict[str, tuple[list[str], bool]]:
    """name: (columns, unique) of the table's indexes that serve every row, less
    PostgreSQL's `_like` twins of text columns (another operator class, for LIKE;
    each stands beside an index on the same column)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
        partial = _partial_indexes(cursor, table)
    return {
        name: (c["columns"], c["unique"] or c["primary_key"])
        for name, c in constraints.items()
        if (c["index"] or c["unique"] or c["primary_key"])
        and c["columns"]
        and name not in partial
        and not name.endswith("_like")
    }


def _leading_columns(table: str) -> set[str]:
    """The first column of each index of the table that serves every row."""
    return {columns[0] for columns, _unique in _indexes(table).values()}


MODELS = [
    model
    for model in apps.get_app_config("letters").get_models()
    if not model._meta.proxy
    and model._meta.managed
    and not model.__name__.startswith("Historical")
]
FOREIGN_KEYS = [
    (model._meta.db_table, field.column)
    for model in MODELS
    for field in model._meta.concrete_fields
    if field.is_relation and field.many_to_one
]


@pytest.mark.django_db
@pytest.mark.parametrize(("table", "column"), FOREIGN_KEYS)
def test_every_foreign_key_leads_an_index(table, column):
    assert column in _leading_columns(table), (
        f"{table}.{column} leads no index: every lookup by it reads the table"
    )


def test_the_role_foreign_keys_are_covered():
    """The check above covers the columns migration 0019 changed."""
    assert {
        ("letters_signatory", "person_id"),
        ("letters_addressee", "person_id"),
        ("letters_addressee", "organisation_id"),
        ("letters_issuer", "letter_id"),
    } <= set(FOREIGN_KEYS)


TABLES = sorted(model._meta.db_table for model in MODELS)


@pytest.mark.django_db
@pytest.mark.parametrize("table", TABLES)
def test_no_plain_index_repeats_the_lead_of_another(table):
    """An index whose columns begin another index is written on every insert for
    lookups the longer one already serves (migration 0024 dropped the letters'
    `status` and `place` ones)."""
    indexes = _indexes(table)
    repeated = [
        (name, other)
        for name, (columns, unique) in indexes.items()
        if not unique
        for other, (longer, _unique) in indexes.items()
        if other != name and longer[: len(columns)] == columns
    ]
    assert repeated == []


@pytest.mark.django_db
@pytest.mark.parametrize("table", TABLES)
def test_no_index_is_kept_on_the_last_change(table):
    """Nothing reads records by updated_at (migration 0024)."""
    assert all(columns[0] != "updated_at" for columns, _u in _indexes(table).values())
