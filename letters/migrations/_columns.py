"""Helpers of migrations 0021 and 0022, which add stored counts with ALTER TABLE ...
ADD COLUMN on both engines and then count them (fill_counts): Django's AddField rebuilds an SQLite table to add a NOT
NULL column, and a rebuild drops the table's triggers (migration 0016's key-space
triggers on the person and organisation tables). Django's migration loader skips
modules whose names begin with an underscore: this is not a migration.
"""

from django.db import migrations, models


def add_count_column(schema_editor, table: str, column: str) -> None:
    """A PositiveIntegerField(default=0) column, as Django writes it for each
    engine (its CHECK included), filled with 0 for the rows already there."""
    vendor = schema_editor.connection.vendor
    kind = "integer unsigned" if vendor == "sqlite" else "integer"
    schema_editor.execute(
        f'ALTER TABLE "{table}" ADD COLUMN "{column}" {kind} '
        f'DEFAULT 0 NOT NULL CHECK ("{column}" >= 0)'
    )
    if vendor == "postgresql":  # Django keeps defaults out of the database
        schema_editor.execute(
            f'ALTER TABLE "{table}" ALTER COLUMN "{column}" DROP DEFAULT'
        )


def drop_column(schema_editor, table: str, column: str) -> None:
    schema_editor.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')


def add_counts(columns: dict[str, tuple[tuple[str, str], ...]]):
    """The operation adding these count columns ({model name: its columns, each
    (column, help text)}): the state as Django's AddField, the database by
    add_count_column; reversed, the columns are dropped."""

    def add(apps, schema_editor):
        for model, fields in columns.items():
            table = apps.get_model("letters", model)._meta.db_table
            for column, _help in fields:
                add_count_column(schema_editor, table, column)

    def drop(apps, schema_editor):
        for model, fields in columns.items():
            table = apps.get_model("letters", model)._meta.db_table
            for column, _help in fields:
                drop_column(schema_editor, table, column)

    return migrations.SeparateDatabaseAndState(
        state_operations=[
            migrations.AddField(
                model_name=model.lower(),
                name=column,
                field=models.PositiveIntegerField(
                    default=0, editable=False, help_text=help_text
                ),
            )
            for model, fields in columns.items()
            for column, help_text in fields
        ],
        database_operations=[migrations.RunPython(add, drop)],
    )


def _refresh_footprint(apps, schema_editor):
    from letters import footprint

    footprint.refresh(everything=True, registry=apps)


def fill_counts():
    """The operation counting the new columns for the records already there: the
    footprint's whole refresh (one grouped pass over the role rows), through the
    migration's own models."""
    return migrations.RunPython(_refresh_footprint, migrations.RunPython.noop)
