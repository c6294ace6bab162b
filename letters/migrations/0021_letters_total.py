"""Each person's and organisation's published letters in any role, each letter once
(``letters_total``, kept exact by letters.footprint), and an index to rank by it:
the person and organisation facets read it (letters.facets).

The columns are added with ALTER TABLE ... ADD COLUMN on both engines. Django's own
AddField rebuilds an SQLite table to add a NOT NULL column, and a rebuild drops the
table's triggers: migration 0016's key-space triggers on these two tables.
"""

from django.db import migrations, models

TABLES = ("letters_organisation", "letters_person")


def add_columns(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        # The CHECK is PositiveIntegerField's, as Django writes it for each engine.
        kind = "integer unsigned" if vendor == "sqlite" else "integer"
        schema_editor.execute(
            f'ALTER TABLE "{table}" ADD COLUMN "letters_total" {kind} '
            f'DEFAULT 0 NOT NULL CHECK ("letters_total" >= 0)'
        )
        if vendor == "postgresql":  # Django keeps defaults out of the database
            schema_editor.execute(
                f'ALTER TABLE "{table}" ALTER COLUMN "letters_total" DROP DEFAULT'
            )


def drop_columns(apps, schema_editor):
    for table in TABLES:
        schema_editor.execute(f'ALTER TABLE "{table}" DROP COLUMN "letters_total"')


def fill_totals(apps, schema_editor):
    """Count the published letters each person and organisation is in, any role."""
    from letters import footprint

    footprint.refresh(everything=True, registry=apps)


def _total():
    return models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Published letters in any role, each letter once.",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0020_party_key_lock_buckets"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="organisation", name="letters_total", field=_total()
                ),
                migrations.AddField(
                    model_name="person", name="letters_total", field=_total()
                ),
            ],
            database_operations=[migrations.RunPython(add_columns, drop_columns)],
        ),
        migrations.AddIndex(
            model_name="organisation",
            index=models.Index(
                fields=["-letters_total", "id"], name="organisation_letters_total"
            ),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(
                fields=["-letters_total", "id"], name="person_letters_total"
            ),
        ),
        migrations.RunPython(fill_totals, migrations.RunPython.noop),
    ]
