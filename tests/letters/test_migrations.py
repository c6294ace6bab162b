"""Migration 0016 brings in the one key space of persons and organisations: it refuses
an archive that already breaks the rule, naming the keys, and migrates once a curator
has mended it. Each step is a separate ``manage.py`` process on its own SQLite file."""

import pytest

from tests.faults.test_interruptions import env_for, manage

pytestmark = pytest.mark.sqlite  # the check is the same query on both engines

SHARE_A_KEY = (  # the models as of 0015 (today's have columns added since)
    "from django.db import connection; "
    "from django.db.migrations.loader import MigrationLoader; "
    "apps = MigrationLoader(connection).project_state("
    "('letters', '0015_letter_status_title')).apps; "
    "apps.get_model('letters', 'Organisation').objects.create("
    "key='shared', name='Body', kind='ngo'); "
    "apps.get_model('letters', 'Person').objects.create("
    "key='shared', display_name='P', sort_name='P')"
)


def test_migrating_refuses_a_key_held_by_a_person_and_an_organisation(tmp_path):
    env = env_for(tmp_path)
    manage(env, "migrate", "letters", "0015", "-v0")
    manage(env, "shell", "-c", SHARE_A_KEY)

    refused = manage(env, "migrate", "-v0", check=False)

    assert refused.returncode != 0
    assert (
        "CommandError: 1 key(s) name both a person and an organisation: 'shared'. "
        "Persons and organisations share one key space now" in refused.stderr
    )
    assert "Traceback" not in refused.stderr
    plan = manage(env, "showmigrations", "letters").stdout
    assert "[ ] 0016_party_key_space" in plan

    manage(env, "shell", "-c", "from letters.models import Person; "
           "Person.objects.filter(key='shared').update(key='mended')")  # fmt: skip
    manage(env, "migrate", "-v0")
    assert "[X] 0016_party_key_space" in manage(env, "showmigrations", "letters").stdout


def _indexes(env, table) -> dict[str, list[str]]:
    import sqlite3

    path = env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        names = [
            row[1] for row in conn.execute(f"PRAGMA index_list({table})")
        ]  # fmt: skip
        return {
            name: [row[2] for row in conn.execute(f"PRAGMA index_info({name})")]
            for name in names
        }


def test_the_role_tables_trade_their_letter_index_for_a_covering_one(tmp_path):
    """Migration 0018 drops the foreign key's (letter) index of signatories and
    addressees, found by its columns, adds (letter, person, organisation), and
    gives the old index back when reversed."""
    env = env_for(tmp_path)
    manage(env, "migrate", "-v0")
    for table in ("letters_signatory", "letters_addressee"):
        indexes = _indexes(env, table)
        assert ["letter_id"] not in indexes.values()
        entities = table.removeprefix("letters_") + "_letter_entities"
        assert indexes[entities] == ["letter_id", "person_id", "organisation_id"]
        # Lookups by letter keep the (letter, position) unique index.
        assert ["letter_id", "position"] in indexes.values()
    manage(env, "migrate", "letters", "0017", "-v0")
    for table in ("letters_signatory", "letters_addressee"):
        indexes = _indexes(env, table)
        assert ["letter_id"] in indexes.values()
        assert ["letter_id", "person_id", "organisation_id"] not in indexes.values()


# Migration 0019: (table, column) whose single-column foreign-key index goes, and the
# composite index that serves it instead.
COVERED_BY = {
    ("letters_signatory", "person_id"): ["person_id", "letter_id"],
    ("letters_addressee", "person_id"): ["person_id", "role", "letter_id"],
    ("letters_addressee", "organisation_id"): ["organisation_id", "role"],
    ("letters_issuer", "letter_id"): ["letter_id", "organisation_id"],
}


def test_the_role_tables_drop_foreign_key_indexes_that_composites_serve(tmp_path):
    """Migration 0019 drops four single-column indexes, each led by a composite
    index on the same column, and gives them back when reversed."""
    env = env_for(tmp_path)
    manage(env, "migrate", "-v0")
    for (table, column), composite in COVERED_BY.items():
        indexes = _indexes(env, table)
        assert [column] not in indexes.values(), (table, column)
        assert composite in indexes.values(), (table, composite)
    manage(env, "migrate", "letters", "0018", "-v0")
    for (table, column), composite in COVERED_BY.items():
        indexes = _indexes(env, table)
        assert [column] in indexes.values(), (table, column)
        assert composite in indexes.values(), (table, composite)


# Migration 0024: (table, column) whose single-column index goes because nothing
# reads it (updated_at) or a longer index leads with the same column.
UNREAD = [
    ("letters_letter", "status"),
    ("letters_letter", "place_id"),
    ("letters_letter", "updated_at"),
    ("letters_signatory", "updated_at"),
    ("letters_historicalletter", "status"),
    ("letters_historicalsignatory", "updated_at"),
]
TRIGGERS = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"


def test_unread_indexes_go_without_rebuilding_the_tables(tmp_path):
    """Migration 0024 drops its indexes in place: the letters' full-text triggers
    and 0016's key-space triggers stay (a table rebuild would drop them), and
    reversing gives the indexes back."""
    env = env_for(tmp_path)
    manage(env, "migrate", "letters", "0023", "-v0")
    triggers = _sqlite(env, TRIGGERS)
    assert {"letters_letter_fts_ai", "letters_person_key_insert"} <= {
        name for name, _sql in triggers
    }
    for table, column in UNREAD:
        assert [column] in _indexes(env, table).values(), (table, column)
    manage(env, "migrate", "-v0")
    for table, column in UNREAD:
        assert [column] not in _indexes(env, table).values(), (table, column)
    assert _sqlite(env, TRIGGERS) == triggers
    manage(env, "migrate", "letters", "0023", "-v0")
    for table, column in UNREAD:
        assert [column] in _indexes(env, table).values(), (table, column)


LIST_ORDER_INDEXES = {  # migrations 0025 and 0026: (before, after)
    "letter_status_dates": (
        ["status", "date_earliest", "date_latest"],
        ["status", "date_earliest", "identifier", "date_latest"],
    ),
    "letter_place_status": (
        ["place_id", "status"],
        ["place_id", "status", "date_earliest", "identifier"],
    ),
}
INDEX_STATS = "SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'letters_letter'"


def test_list_order_indexes_end_in_the_identifier_with_their_statistics(tmp_path):
    """Migrations 0025 and 0026 give the date and place indexes the list's
    tie-break in place (the triggers stay). On a database with planner statistics
    (every bulk load runs ANALYZE) the new indexes have theirs at once, as the old
    ones have again when reversed: SQLite, with statistics for every other index
    and none for one, walked the whole archive with it for the window probe."""
    env = env_for(tmp_path)
    manage(env, "migrate", "letters", "0024", "-v0")
    manage(env, "shell", "-c", "from tests import factories as f; f.LetterFactory()")
    _sqlite(env, "ANALYZE")
    before = dict(_sqlite(env, INDEX_STATS))
    assert set(LIST_ORDER_INDEXES) <= set(before)
    triggers = _sqlite(env, TRIGGERS)
    manage(env, "migrate", "-v0")
    indexes = _indexes(env, "letters_letter")
    for name, (_old, new) in LIST_ORDER_INDEXES.items():
        assert indexes[name] == new, name
    assert dict(_sqlite(env, INDEX_STATS)).keys() == before.keys()
    assert _sqlite(env, TRIGGERS) == triggers
    manage(env, "migrate", "letters", "0024", "-v0")
    indexes = _indexes(env, "letters_letter")
    for name, (old, _new) in LIST_ORDER_INDEXES.items():
        assert indexes[name] == old, name
    assert dict(_sqlite(env, INDEX_STATS)) == before


def _sqlite(env, sql: str) -> list[tuple]:
    import sqlite3

    path = env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def _person_columns(env) -> list[str]:
    return [row[1] for row in _sqlite(env, "PRAGMA table_info(letters_person)")]


def _back_and_forth(env, records: str, previous: str, column: str) -> list[tuple]:
    """Migrate, write `records` through today's models (they need today's columns),
    migrate back to `previous` (`column` gone, 0016's four key-space triggers
    there) and forward again: the triggers, which the caller goes on checking."""
    manage(env, "migrate", "-v0")
    manage(env, "shell", "-c", records)
    manage(env, "migrate", "letters", previous, "-v0")
    triggers = _sqlite(env, KEY_TRIGGERS)
    assert len(triggers) == 4
    assert column not in _person_columns(env)
    manage(env, "migrate", "-v0")
    assert _sqlite(env, KEY_TRIGGERS) == triggers
    return triggers


KEY_TRIGGERS = (
    "SELECT name FROM sqlite_master WHERE type = 'trigger' "
    "AND tbl_name IN ('letters_person', 'letters_organisation') ORDER BY name"
)
SIGNS_AND_IS_NAMED = (
    "from tests import factories as f; "
    "p = f.PersonFactory(key='p'); a = f.LetterFactory(); "
    "f.SignatoryFactory(letter=a, person=p); f.MentionFactory(letter=a, person=p); "
    "f.MentionFactory(person=p)"
)


def test_the_total_column_comes_filled_and_keeps_the_key_space_triggers(tmp_path):
    """Migration 0021 adds letters_total with ALTER TABLE: Django's AddField would
    rebuild the SQLite tables and lose migration 0016's key-space triggers on
    them. The totals of the records already there are counted, and the column
    goes again when reversed, the triggers staying."""
    env = env_for(tmp_path)
    triggers = _back_and_forth(env, SIGNS_AND_IS_NAMED, "0020", "letters_total")
    assert _sqlite(
        env,
        "SELECT letters_signed, letters_mentioned_in, letters_total "
        "FROM letters_person WHERE key = 'p'",
    ) == [(1, 2, 2)]
    indexes = _indexes(env, "letters_person")
    assert indexes["person_letters_total"] == ["letters_total", "id"]
    manage(env, "refresh_footprint", "--check")  # exact, total included

    manage(env, "migrate", "letters", "0020", "-v0")
    assert _sqlite(env, KEY_TRIGGERS) == triggers
    assert _sqlite(env, "SELECT COUNT(*) FROM letters_person") == [(1,)]
    columns = _person_columns(env)
    assert "letters_signed" in columns
    assert "letters_total" not in columns


ADDRESSED_AND_COPIED = (
    "from tests import factories as f; "
    "p = f.PersonFactory(key='p'); a = f.LetterFactory(); "
    "f.AddresseeFactory(letter=a, person=p, role='to', position=1); "
    "f.AddresseeFactory(letter=a, person=p, role='cc', position=2); "
    "f.AddresseeFactory(person=p, role='cc')"
)


def test_the_addressee_role_counts_come_filled_and_keep_the_triggers(tmp_path):
    """Migration 0022 adds letters_addressed and letters_copied with ALTER TABLE,
    as 0021 does (AddField's SQLite rebuild would drop the key-space triggers),
    and counts the records already there; reversed, the columns go and the
    triggers stay."""
    env = env_for(tmp_path)
    triggers = _back_and_forth(env, ADDRESSED_AND_COPIED, "0021", "letters_addressed")
    assert _sqlite(
        env,
        "SELECT letters_received, letters_addressed, letters_copied, letters_total "
        "FROM letters_person WHERE key = 'p'",
    ) == [(2, 1, 2, 2)]
    manage(env, "refresh_footprint", "--check")

    manage(env, "migrate", "letters", "0021", "-v0")
    assert _sqlite(env, KEY_TRIGGERS) == triggers
    columns = _person_columns(env)
    assert "letters_total" in columns
    assert "letters_addressed" not in columns
    assert "letters_copied" not in columns
