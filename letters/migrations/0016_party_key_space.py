"""Persons and organisations share one key space (``letters.models.PartyKey``): a
letter's addressee or cc is either, and ``addressee=``/``cc=`` take the key of either.
The models' validation gives the curator the message; these triggers refuse every
other write that would break the rule (bulk loads, raw SQL). On PostgreSQL a
transaction-scoped advisory lock on the key serialises two writers of one key, so
neither can miss the other's row; SQLite serialises writers already.

Migrating refuses an archive that already breaks the rule, naming the keys."""

import django.core.validators
from django.core.management.base import CommandError
from django.db import migrations, models

MESSAGE = "persons and organisations share one key space"

SQLITE = [
    f"CREATE TRIGGER letters_{table}_key_{event} BEFORE {clause} ON letters_{table} "
    f'WHEN EXISTS (SELECT 1 FROM letters_{other} WHERE "key" = NEW."key") BEGIN '
    f"SELECT RAISE(ABORT, 'letters_{table}.key: already the key of "
    f"{kind}; {MESSAGE}'); END"
    for table, other, kind in (
        ("person", "organisation", "an organisation"),
        ("organisation", "person", "a person"),
    )
    for event, clause in (("insert", "INSERT"), ("update", 'UPDATE OF "key"'))
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS letters_{table}_key_{event}"
    for table in ("person", "organisation")
    for event in ("insert", "update")
]
POSTGRESQL = [
    f"""CREATE FUNCTION letters_party_key_unique() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('letters_party_key:' || NEW.key, 0));
    IF TG_TABLE_NAME = 'letters_person' THEN
        IF EXISTS (SELECT 1 FROM letters_organisation WHERE "key" = NEW."key") THEN
            RAISE EXCEPTION 'letters_person.key: % is already the key of an '
                'organisation; {MESSAGE}', NEW.key USING ERRCODE = 'unique_violation';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM letters_person WHERE "key" = NEW."key") THEN
        RAISE EXCEPTION 'letters_organisation.key: % is already the key of a '
            'person; {MESSAGE}', NEW.key USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END
$$""",
    *(
        f'CREATE TRIGGER letters_{table}_key BEFORE INSERT OR UPDATE OF "key" '
        f"ON letters_{table} FOR EACH ROW EXECUTE FUNCTION letters_party_key_unique()"
        for table in ("person", "organisation")
    ),
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS letters_person_key ON letters_person",
    "DROP TRIGGER IF EXISTS letters_organisation_key ON letters_organisation",
    "DROP FUNCTION IF EXISTS letters_party_key_unique()",
]


def _refuse_shared_keys(apps, schema_editor):
    Person = apps.get_model("letters", "Person")
    Organisation = apps.get_model("letters", "Organisation")
    shared = sorted(
        Person.objects.filter(key__in=Organisation.objects.values("key")).values_list(
            "key", flat=True
        )
    )
    if shared:
        listed = ", ".join(repr(key) for key in shared[:20])
        more = f" and {len(shared) - 20} more" if len(shared) > 20 else ""
        raise CommandError(
            f"{len(shared)} key(s) name both a person and an organisation: "
            f"{listed}{more}. {MESSAGE[0].upper()}{MESSAGE[1:]} now; give one "
            "of each pair a new key in the admin, then migrate again."
        )


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0015_letter_status_title"),
    ]

    operations = [
        migrations.RunPython(_refuse_shared_keys, migrations.RunPython.noop),
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}),
        ),
        migrations.AlterField(
            model_name="historicalorganisation",
            name="key",
            field=models.SlugField(
                help_text="Stable short name used by the seed catalogue, e.g. human-rights-watch. No person may have it.",
                max_length=80,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z0-9]+(--?[a-z0-9]+)*$",
                        "Lower-case letters, digits and single hyphens, e.g. laurent-fabius.",
                    )
                ],
            ),
        ),
        migrations.AlterField(
            model_name="historicalperson",
            name="key",
            field=models.SlugField(
                help_text="Stable short name used by the seed catalogue, e.g. laurent-fabius. Never reuse a key for another person; no organisation may have it.",
                max_length=80,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z0-9]+(--?[a-z0-9]+)*$",
                        "Lower-case letters, digits and single hyphens, e.g. laurent-fabius.",
                    )
                ],
            ),
        ),
        migrations.AlterField(
            model_name="organisation",
            name="key",
            field=models.SlugField(
                help_text="Stable short name used by the seed catalogue, e.g. human-rights-watch. No person may have it.",
                max_length=80,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z0-9]+(--?[a-z0-9]+)*$",
                        "Lower-case letters, digits and single hyphens, e.g. laurent-fabius.",
                    )
                ],
            ),
        ),
        migrations.AlterField(
            model_name="person",
            name="key",
            field=models.SlugField(
                help_text="Stable short name used by the seed catalogue, e.g. laurent-fabius. Never reuse a key for another person; no organisation may have it.",
                max_length=80,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z0-9]+(--?[a-z0-9]+)*$",
                        "Lower-case letters, digits and single hyphens, e.g. laurent-fabius.",
                    )
                ],
            ),
        ),
    ]
