"""Helpers of migrations 0018, 0019 and 0024, which drop single-column indexes without
Django's AlterField (it would rebuild the tables on SQLite), and of 0025 and 0026,
which replace a letters index and read its statistics. Django's migration
loader skips modules whose names begin with an underscore: this is not a migration.
"""

from django.db import migrations


def single_column_indexes(schema_editor, table: str, column: str) -> list[str]:
    """The names of the table's plain (not unique, not primary-key) indexes on this
    one column, whatever they were named when created."""
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(
            cursor, table
        )
    return [
        name
        for name, c in constraints.items()
        if c["index"]
        and not c["unique"]
        and not c["primary_key"]
        and c["columns"] == [column]
    ]


def drop_single_column_indexes(schema_editor, model, field) -> None:
    table = model._meta.db_table
    for name in single_column_indexes(schema_editor, table, field.column):
        quoted = schema_editor.quote_name(name)
        schema_editor.execute(f"DROP INDEX {quoted}", params=None)


def create_single_column_index(schema_editor, model, field) -> None:
    """The field's own index, as Django creates it, unless one is there already;
    on PostgreSQL a text field's `_like` twin (for LIKE patterns) too."""
    if not single_column_indexes(schema_editor, model._meta.db_table, field.column):
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))
        like = getattr(schema_editor, "_create_like_index_sql", None)
        if like is not None and (sql := like(model, field)) is not None:
            schema_editor.execute(sql)


def dropped_in_place(fields) -> migrations.RunPython:
    """A RunPython that drops the single-column indexes of the (model, field) pairs
    `fields(apps)` yields, and gives them back when reversed."""

    def drop(apps, schema_editor):
        for model, field in fields(apps):
            drop_single_column_indexes(schema_editor, model, field)

    def create(apps, schema_editor):
        for model, field in fields(apps):
            create_single_column_index(schema_editor, model, field)

    return migrations.RunPython(drop, create)


def analyze_letters(apps, schema_editor):
    """On SQLite, planner statistics for the letters' indexes as they are now, when
    the database keeps any (a bulk load leaves them): an index without statistics
    among indexes with them can be taken where it walks the whole table (0025).
    PostgreSQL keeps statistics per column, which an index does not change."""
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
        )
        if cursor.fetchone() is not None:
            cursor.execute("ANALYZE letters_letter")


def letter_index_replaced(name: str, index) -> list:
    """Operations that replace the letters' index `name` with `index` (the same
    name), their statistics read after it is created, and after the old one is
    back when reversed."""
    return [
        migrations.RunPython(migrations.RunPython.noop, analyze_letters),
        migrations.RemoveIndex(model_name="letter", name=name),
        migrations.AddIndex(model_name="letter", index=index),
        migrations.RunPython(analyze_letters, migrations.RunPython.noop),
    ]
