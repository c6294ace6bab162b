"""The names of everyone a letter involves join its full-text document.

Searching a name used to OR, per word, a substring scan of persons and organisations
with four role tables; at 100k letters that cost 0.4-1.2 s on SQLite and went over
PostgreSQL's statement limit. Now Letter.names_text holds the folded names (kept by
letters.search.refresh_names) and the one full-text index covers both columns: FTS5
with two columns on SQLite, a GIN index on the tsvector of both on PostgreSQL."""

from django.db import migrations, models

from letters import search

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS letters_letter_fts_ai",
    "DROP TRIGGER IF EXISTS letters_letter_fts_ad",
    "DROP TRIGGER IF EXISTS letters_letter_fts_au",
    "DROP TABLE IF EXISTS letters_letter_fts",
]
SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE letters_letter_fts USING fts5("
    "search_text, names_text, content='letters_letter', content_rowid='id', "
    'tokenize="unicode61 remove_diacritics 2")',
    "CREATE TRIGGER letters_letter_fts_ai AFTER INSERT ON letters_letter BEGIN "
    "INSERT INTO letters_letter_fts(rowid, search_text, names_text) "
    "VALUES (new.id, new.search_text, new.names_text); END",
    "CREATE TRIGGER letters_letter_fts_ad AFTER DELETE ON letters_letter BEGIN "
    "INSERT INTO letters_letter_fts(letters_letter_fts, rowid, search_text, "
    "names_text) VALUES ('delete', old.id, old.search_text, old.names_text); END",
    "CREATE TRIGGER letters_letter_fts_au AFTER UPDATE OF search_text, names_text "
    "ON letters_letter BEGIN "
    "INSERT INTO letters_letter_fts(letters_letter_fts, rowid, search_text, "
    "names_text) VALUES ('delete', old.id, old.search_text, old.names_text); "
    "INSERT INTO letters_letter_fts(rowid, search_text, names_text) "
    "VALUES (new.id, new.search_text, new.names_text); END",
    "INSERT INTO letters_letter_fts(letters_letter_fts) VALUES ('rebuild')",
]
SQLITE_CREATE_BEFORE = [  # migration 0004's index, for going back
    "CREATE VIRTUAL TABLE letters_letter_fts USING fts5("
    "search_text, content='letters_letter', content_rowid='id', "
    'tokenize="unicode61 remove_diacritics 2")',
    "CREATE TRIGGER letters_letter_fts_ai AFTER INSERT ON letters_letter BEGIN "
    "INSERT INTO letters_letter_fts(rowid, search_text) "
    "VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER letters_letter_fts_ad AFTER DELETE ON letters_letter BEGIN "
    "INSERT INTO letters_letter_fts(letters_letter_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER letters_letter_fts_au AFTER UPDATE OF search_text "
    "ON letters_letter BEGIN "
    "INSERT INTO letters_letter_fts(letters_letter_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO letters_letter_fts(rowid, search_text) "
    "VALUES (new.id, new.search_text); END",
    "INSERT INTO letters_letter_fts(letters_letter_fts) VALUES ('rebuild')",
]
PG_DROP = ["DROP INDEX IF EXISTS letters_letter_search_gin"]
PG_CREATE = [
    "CREATE INDEX letters_letter_search_gin ON letters_letter "
    "USING GIN (to_tsvector('simple'::regconfig, search_text || ' | ' || names_text))",
]
PG_CREATE_BEFORE = [
    "CREATE INDEX letters_letter_search_gin ON letters_letter "
    "USING GIN (to_tsvector('simple'::regconfig, search_text))",
]


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    drop, create = {
        "sqlite": (SQLITE_DROP, SQLITE_CREATE),
        "postgresql": (PG_DROP, PG_CREATE),
    }.get(connection.vendor, ([], []))
    for sql in drop:
        schema_editor.execute(sql)
    # Fill the names before indexing: one index build instead of one per letter.
    search.refresh_names(using=connection.alias)
    for sql in create:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    drop, create = {
        "sqlite": (SQLITE_DROP, SQLITE_CREATE_BEFORE),
        "postgresql": (PG_DROP, PG_CREATE_BEFORE),
    }.get(vendor, ([], []))
    for sql in [*drop, *create]:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("letters", "0007_signatory_organisation_letter_index")]

    operations = [
        migrations.AddField(
            model_name="letter",
            name="names_text",
            field=models.TextField(
                blank=True,
                default="",
                editable=False,
                help_text="Folded names of everyone the letter involves, for "
                "full-text search; derived from the roles by letters.search, never "
                "edited.",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
