"""Drop indexes that nothing reads:

- every record's `updated_at` index (ten tables and their histories): no query
  looks records up or orders them by their last change (the data package's
  `created` is the latest value it writes); at 100k letters the signatories' alone
  was 40 MB and 1.4 s of every bulk load (docs/benchmarks.md);
- the letters' `status` index (and on PostgreSQL its `_like` twin for LIKE
  patterns), which five status-led indexes serve;
- the letters' `place` foreign-key index, which the (place, status) index serves.

As in 0018 and 0019, only the indexes are dropped, found by their columns: Django's
AlterField of db_index would rebuild the tables on SQLite (and drop the triggers of
0016 and the full-text index's with them). Reversing gives them back."""

import django.db.models.deletion
from django.db import migrations, models

from letters.migrations._indexes import dropped_in_place


def _fields(apps):
    """The (model, field) of each state operation below, as of this migration."""
    for operation in STATE_OPERATIONS:
        model = apps.get_model("letters", operation.model_name)
        yield model, model._meta.get_field(operation.name)


# The ten record tables; each has a history table, `historical<name>`.
RECORDS = (
    "addressee",
    "issuer",
    "letter",
    "membership",
    "mention",
    "organisation",
    "person",
    "place",
    "post",
    "signatory",
)


def _status():
    return models.CharField(
        choices=[
            ("draft", "Draft"),
            ("in_review", "In review"),
            ("published", "Published"),
        ],
        default="draft",
        help_text="Only published letters are public (API and data package).",
        max_length=20,
    )


STATE_OPERATIONS = [
    *(
        migrations.AlterField(
            model_name=record,
            name="updated_at",
            field=models.DateTimeField(auto_now=True),
        )
        for record in RECORDS
    ),
    *(
        migrations.AlterField(
            model_name=f"historical{record}",
            name="updated_at",
            field=models.DateTimeField(blank=True, editable=False),
        )
        for record in RECORDS
    ),
    *(
        migrations.AlterField(model_name=model, name="status", field=_status())
        for model in ("letter", "historicalletter")
    ),
    migrations.AlterField(
        model_name="letter",
        name="place",
        field=models.ForeignKey(
            blank=True,
            db_index=False,
            help_text="Place of writing, as the source gives it.",
            null=True,
            on_delete=django.db.models.deletion.PROTECT,
            related_name="letters",
            to="letters.place",
        ),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0023_letter_published_facet_columns"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=STATE_OPERATIONS,
            database_operations=[
                dropped_in_place(_fields),
            ],
        ),
    ]
