"""The role tables drop the single-column indexes of four foreign keys, each served by
a composite index that leads with the same column:

- signatories' (person), by (person, letter);
- addressees' (person), by (person, role, letter);
- addressees' (organisation), by (organisation, role) and (organisation, letter, role);
- issuing organisations' (letter), by the (letter, organisation) unique index.

Every write of a role row, and the rebuild of each index after a bulk import
(1.1M signatures at 100k letters), maintained them for no lookup of their own.

As in 0018, only the indexes are dropped, found by their columns: Django's AlterField
of db_index would rebuild the tables on SQLite. Reversing gives them back."""

import django.db.models.deletion
from django.db import migrations, models

from letters.migrations._indexes import dropped_in_place

# (model, foreign key) whose own index goes.
COVERED = (
    ("Signatory", "person"),
    ("Addressee", "person"),
    ("Addressee", "organisation"),
    ("Issuer", "letter"),
)


def _columns(apps):
    for model_name, field_name in COVERED:
        model = apps.get_model("letters", model_name)
        yield model, model._meta.get_field(field_name)


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0018_role_letter_entities"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="addressee",
                    name="organisation",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        help_text="The body addressed, or the person's ministry or "
                        "office.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="addressed",
                        to="letters.organisation",
                    ),
                ),
                migrations.AlterField(
                    model_name="addressee",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="addressed",
                        to="letters.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="issuer",
                    name="letter",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="issuers",
                        to="letters.letter",
                    ),
                ),
                migrations.AlterField(
                    model_name="signatory",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        help_text="Who signed. Leave empty only when the signature "
                        "is unidentified.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="signatures",
                        to="letters.person",
                    ),
                ),
            ],
            database_operations=[
                dropped_in_place(_columns),
            ],
        ),
    ]
