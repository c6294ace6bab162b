"""PostgreSQL: the letter's tsvector stored, instead of an index on an expression.

The GIN index of migration 0008 was on to_tsvector(search_text || names_text), so
every row the planner tested outside the index recomputed to_tsvector over the whole
transcription (~0.3 ms a letter), and the planner, which prices that call at next to
nothing, tested rows that way: a word found in most letters took 8.5 s to count at
100k letters (1 s within one year). A stored generated column makes the test cheap,
which is also what the planner assumes: the same searches take 0.5 s and 0.15 s, rare
words and names still go through the GIN index (below 1 ms). The column belongs to
the database only (Django never reads or writes it; letters.search names it) and
SQLite is untouched: FTS5 is its own table.
"""

from django.db import migrations

DOCUMENT = "to_tsvector('simple'::regconfig, search_text || ' | ' || names_text)"
FORWARDS = [
    "DROP INDEX IF EXISTS letters_letter_search_gin",
    "ALTER TABLE letters_letter ADD COLUMN search_document tsvector "
    f"GENERATED ALWAYS AS ({DOCUMENT}) STORED",
    "CREATE INDEX letters_letter_search_gin ON letters_letter "
    "USING GIN (search_document)",
]
BACKWARDS = [
    "DROP INDEX IF EXISTS letters_letter_search_gin",
    "ALTER TABLE letters_letter DROP COLUMN IF EXISTS search_document",
    f"CREATE INDEX letters_letter_search_gin ON letters_letter USING GIN ({DOCUMENT})",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARDS:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARDS:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("letters", "0010_letter_published_ids")]

    operations = [migrations.RunPython(forwards, backwards)]
