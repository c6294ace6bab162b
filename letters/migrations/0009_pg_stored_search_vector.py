"""PostgreSQL: the search document's tsvector becomes a stored generated column.

The GIN index of migration 0008 was on an expression; a word in most letters makes
PostgreSQL recheck the heap rows of its bitmap, and every recheck recomputed
to_tsvector over the whole transcription (9.4 s for a word in all 100k letters). The
stored column is computed once per write and read by the recheck. SQLite (FTS5) is
unchanged.

The column keeps no planner statistics (SET STATISTICS 0): sampled lexeme frequencies
of prefix queries swung the planner between runs of ANALYZE on the same data, once
walking all 100k letters in date order for a name in two of them (1.2 s instead of
2 ms). Without them PostgreSQL assumes a match is selective, as it did for the
expression index, and reads the GIN index first.
"""

from django.db import migrations

DOCUMENT = "to_tsvector('simple'::regconfig, search_text || ' | ' || names_text)"

FORWARDS = [
    "DROP INDEX IF EXISTS letters_letter_search_gin",
    "ALTER TABLE letters_letter ADD COLUMN search_vector tsvector "
    f"GENERATED ALWAYS AS ({DOCUMENT}) STORED",
    "ALTER TABLE letters_letter ALTER COLUMN search_vector SET STATISTICS 0",
    "CREATE INDEX letters_letter_search_gin ON letters_letter USING GIN (search_vector)",
]
BACKWARDS = [
    "DROP INDEX IF EXISTS letters_letter_search_gin",
    "ALTER TABLE letters_letter DROP COLUMN search_vector",
    f"CREATE INDEX letters_letter_search_gin ON letters_letter USING GIN ({DOCUMENT})",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("letters", "0008_letter_names_text")]

    operations = [migrations.RunPython(run(FORWARDS), run(BACKWARDS))]
