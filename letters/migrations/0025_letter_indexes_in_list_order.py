"""The letters' date index ends in the list's whole order, (date_earliest,
identifier), so that a page of the list, or of a date window, is read in the
index's order and stops at its last letter.

Without the tie-break, SQLite read every letter of the first date the page reaches
and sorted them by identifier ("USE TEMP B-TREE FOR RIGHT PART OF ORDER BY"), and
a date is shared by many letters: every year-dated letter starts on 1 January. At
100k letters, the page's statement for the whole archive or a three-month window
took 3.6-5.0 ms, 0.4-0.6 ms in index order (docs/benchmarks.md, twentieth session).
The kind and language indexes stay as they are: on PostgreSQL the identifier would
end their deduplication and double their counts' time.

On SQLite the new index gets its planner statistics at once when the database has
any (a bulk load leaves them), and so does the old one when this is reversed: with
statistics for the other indexes and none for this one, the planner took it for
the window probe and walked the archive from its first letter (1.8 -> 6-17 ms a
probe at 100k letters). PostgreSQL keeps statistics per column, which an index
does not change."""

from django.db import migrations, models

from letters.migrations._indexes import letter_index_replaced


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0024_unread_indexes"),
    ]

    operations = letter_index_replaced(
        "letter_status_dates",
        models.Index(
            fields=["status", "date_earliest", "identifier", "date_latest"],
            name="letter_status_dates",
        ),
    )
