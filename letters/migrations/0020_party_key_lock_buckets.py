"""Migration 0016's PostgreSQL trigger took one advisory lock per key written, held to
the end of the transaction: a transaction that writes more persons and organisations
than the server's lock table holds (max_locks_per_transaction x max_connections, 6,400
by default) failed with "out of shared memory", so generate_corpus and
import_datapackage could not write 20,000 persons on a default server.

The lock is now one of 256 per key space, chosen by the key's hash: two writers of one
key still take the same lock, so neither can miss the other's row, and a transaction
holds at most 256 of these locks whatever it writes. Writers of two keys that share a
bucket wait for each other, which is all a shared bucket costs."""

from django.db import migrations

CHECK = """
    IF TG_TABLE_NAME = 'letters_person' THEN
        IF EXISTS (SELECT 1 FROM letters_organisation WHERE "key" = NEW."key") THEN
            RAISE EXCEPTION 'letters_person.key: % is already the key of an '
                'organisation; persons and organisations share one key space',
                NEW.key USING ERRCODE = 'unique_violation';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM letters_person WHERE "key" = NEW."key") THEN
        RAISE EXCEPTION 'letters_organisation.key: % is already the key of a '
            'person; persons and organisations share one key space', NEW.key
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END
$$"""
# (the key space, the key's bucket): the two-integer advisory locks are a space of
# their own, apart from the one-bigint locks of 0016 and of anything else.
BUCKETS = f"""CREATE OR REPLACE FUNCTION letters_party_key_unique() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(
        hashtext('letters_party_key'), hashtext(NEW.key) & 255
    );{CHECK}"""
PER_KEY = f"""CREATE OR REPLACE FUNCTION letters_party_key_unique() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(
        hashtextextended('letters_party_key:' || NEW.key, 0)
    );{CHECK}"""


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0019_role_foreign_key_indexes"),
    ]

    operations = [migrations.RunPython(_run(BUCKETS), _run(PER_KEY))]
