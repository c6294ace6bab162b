"""Each person's published letters as addressee, split by the addressee's role:
``letters_addressed`` (to) and ``letters_copied`` (cc), kept exact by
letters.footprint. The persons' role=to and role=cc filters read them instead of
probing every addressee's rows (letters.filters.PersonFilter).

The columns are added with ALTER TABLE ... ADD COLUMN on both engines, as in 0021:
Django's AddField rebuilds an SQLite table to add a NOT NULL column, and the rebuild
drops migration 0016's key-space triggers.
"""

from django.db import migrations, models

COLUMNS = ("letters_addressed", "letters_copied")


def add_columns(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    # The CHECK is PositiveIntegerField's, as Django writes it for each engine.
    kind = "integer unsigned" if vendor == "sqlite" else "integer"
    for column in COLUMNS:
        schema_editor.execute(
            f'ALTER TABLE "letters_person" ADD COLUMN "{column}" {kind} '
            f'DEFAULT 0 NOT NULL CHECK ("{column}" >= 0)'
        )
        if vendor == "postgresql":  # Django keeps defaults out of the database
            schema_editor.execute(
                f'ALTER TABLE "letters_person" ALTER COLUMN "{column}" DROP DEFAULT'
            )


def drop_columns(apps, schema_editor):
    for column in COLUMNS:
        schema_editor.execute(f'ALTER TABLE "letters_person" DROP COLUMN "{column}"')


def fill_counts(apps, schema_editor):
    """Count the published letters addressed and copied to each person (the
    footprint's whole refresh: one grouped pass over the role rows)."""
    from letters import footprint

    footprint.refresh(everything=True, registry=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0021_letters_total"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="person",
                    name="letters_addressed",
                    field=models.PositiveIntegerField(
                        default=0,
                        editable=False,
                        help_text="Published letters addressed to them (to).",
                    ),
                ),
                migrations.AddField(
                    model_name="person",
                    name="letters_copied",
                    field=models.PositiveIntegerField(
                        default=0,
                        editable=False,
                        help_text="Published letters copied to them (cc).",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(add_columns, drop_columns)],
        ),
        migrations.RunPython(fill_counts, migrations.RunPython.noop),
    ]
