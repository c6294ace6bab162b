"""Each person's and organisation's published letters in any role, each letter once
(``letters_total``, kept exact by letters.footprint), and an index to rank by it:
the person and organisation facets read it (letters.facets).

The columns are added with ALTER TABLE ... ADD COLUMN on both engines
(migrations/_columns.py): Django's own AddField rebuilds an SQLite table to add a
NOT NULL column, and a rebuild drops the table's triggers: migration 0016's key-space
triggers on these two tables.
"""

from django.db import migrations, models

from letters.migrations._columns import add_counts, fill_counts

TOTAL = ("letters_total", "Published letters in any role, each letter once.")


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0020_party_key_lock_buckets"),
    ]

    operations = [
        add_counts({"Organisation": (TOTAL,), "Person": (TOTAL,)}),
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
        fill_counts(),
    ]
