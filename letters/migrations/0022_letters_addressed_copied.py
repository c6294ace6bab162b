"""Each person's published letters as addressee, split by the addressee's role:
``letters_addressed`` (to) and ``letters_copied`` (cc), kept exact by
letters.footprint. The persons' role=to and role=cc filters read them instead of
probing every addressee's rows (letters.filters.PersonFilter).

The columns are added with ALTER TABLE ... ADD COLUMN on both engines, as in 0021
(migrations/_columns.py): Django's AddField rebuilds an SQLite table to add a NOT NULL
column, and the rebuild drops migration 0016's key-space triggers.
"""

from django.db import migrations

from letters.migrations._columns import add_counts, fill_counts


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0021_letters_total"),
    ]

    operations = [
        add_counts(
            {
                "Person": (
                    ("letters_addressed", "Published letters addressed to them (to)."),
                    ("letters_copied", "Published letters copied to them (cc)."),
                )
            }
        ),
        fill_counts(),
    ]
