"""A place's letters in the list's order: the (place, status) index ends in
(date_earliest, identifier), so `place=` reads a page in the index's order and
stops at its last letter, as 0025 does for the date index.

Before, SQLite read every published letter of the place, with its card, and sorted
them for each page: at 100k letters (about 3,000 letters a place) the page's
statement took 9.0-10.4 ms, 0.4 ms in index order; with a six-month window too,
the count 10.2-11.5 -> 0.1 ms and the page 3.4-3.9 -> 0.4 ms (docs/benchmarks.md,
twentieth session). The index still counts a place's published letters
(PlaceQuerySet). On PostgreSQL that count reads about twice the pages, since the
identifier makes every key unique where equal keys were deduplicated: the places
list 7-10 -> 14-20 ms at 100k letters, against a place's letters 5-25 times
faster."""

from django.db import migrations, models

from letters.migrations._indexes import letter_index_replaced


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0025_letter_indexes_in_list_order"),
    ]

    operations = letter_index_replaced(
        "letter_place_status",
        models.Index(
            fields=["place", "status", "date_earliest", "identifier"],
            name="letter_place_status",
        ),
    )
