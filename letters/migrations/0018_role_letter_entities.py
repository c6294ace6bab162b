"""Signatories and addressees: the foreign key's own (letter) index gives way to a
(letter, person, organisation) index (letters.models.LETTER_ENTITIES). Lookups by
letter are served by it and by the (letter, position) unique index.

Only the index is dropped: Django's AlterField of db_index would rebuild both tables
on SQLite (1.1M signatures at 100k letters). The index is found by its columns, as
Django named it when the foreign key was created."""

import django.db.models.deletion
from django.db import migrations, models

from letters.migrations._indexes import (
    create_single_column_index,
    drop_single_column_indexes,
)

ROLE_MODELS = ("Signatory", "Addressee")


def drop_letter_index(apps, schema_editor):
    for model_name in ROLE_MODELS:
        model = apps.get_model("letters", model_name)
        letter = model._meta.get_field("letter")
        drop_single_column_indexes(schema_editor, model, letter)


def create_letter_index(apps, schema_editor):
    for model_name in ROLE_MODELS:
        model = apps.get_model("letters", model_name)
        letter = model._meta.get_field("letter")
        create_single_column_index(schema_editor, model, letter)


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0017_addressee_person_role_letter"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="addressee",
                    name="letter",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="addressees",
                        to="letters.letter",
                    ),
                ),
                migrations.AlterField(
                    model_name="signatory",
                    name="letter",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="signatories",
                        to="letters.letter",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_letter_index, create_letter_index),
            ],
        ),
        migrations.AddIndex(
            model_name="addressee",
            index=models.Index(
                fields=["letter", "person", "organisation"],
                name="addressee_letter_entities",
            ),
        ),
        migrations.AddIndex(
            model_name="signatory",
            index=models.Index(
                fields=["letter", "person", "organisation"],
                name="signatory_letter_entities",
            ),
        ),
    ]
