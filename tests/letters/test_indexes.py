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


def _leading_columns(table: str) -> set[str]:
    """The first column of each index of the table that serves every row."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
        partial = _partial_indexes(cursor, table)
    return {
        c["columns"][0]
        for name, c in constraints.items()
        if (c["index"] or c["unique"] or c["primary_key"])
        and c["columns"]
        and name not in partial
    }


FOREIGN_KEYS = [
    (model._meta.db_table, field.column)
    for model in apps.get_app_config("letters").get_models()
    if not model._meta.proxy
    and model._meta.managed
    and not model.__name__.startswith("Historical")
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
