"""Full-text search over letters' folded text: FTS5 on SQLite, a GIN index on a
tsvector on PostgreSQL. Both index Letter.search_text, which the application folds
(lower case, no accents) with one function on every engine, so both engines answer the
same queries the same way."""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE letters_letter_fts USING fts5("
    "search_text, content='letters_letter', content_rowid='id', "
    "tokenize=\"unicode61 remove_diacritics 2\")",
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
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS letters_letter_fts_ai",
    "DROP TRIGGER IF EXISTS letters_letter_fts_ad",
    "DROP TRIGGER IF EXISTS letters_letter_fts_au",
    "DROP TABLE IF EXISTS letters_letter_fts",
]
POSTGRESQL = [
    "CREATE INDEX letters_letter_search_gin ON letters_letter "
    "USING GIN (to_tsvector('simple'::regconfig, search_text))",
]
POSTGRESQL_REVERSE = ["DROP INDEX IF EXISTS letters_letter_search_gin"]


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("letters", "0003_synthetic_flags")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}),
        ),
    ]
