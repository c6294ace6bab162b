"""letters.bulk.indexes_deferred: bulk loads build the role tables' secondary
indexes once, after the rows, and leave the schema exactly as it was, also when the
load fails."""

import pytest
from django.db import connection, transaction

from letters import bulk, synthetic
from letters.models import Addressee, Issuer, Letter, Mention, Signatory

ROLE_MODELS = (Signatory, Addressee, Mention, Issuer)


def indexes(models=(*ROLE_MODELS, Letter)):
    with connection.cursor() as cursor:
        return {
            m._meta.db_table: bulk._plain_indexes(cursor, m._meta.db_table)
            for m in models
        }


def test_the_role_tables_have_plain_indexes_to_defer(db):
    found = indexes()
    assert all(found.values()), found  # else the tests below prove nothing
    assert any("person_id" in sql for _, sql in found["letters_signatory"])


def test_generate_leaves_the_same_indexes_and_uses_them(seeded):
    before = indexes()
    synthetic.generate(letters=40, seed=4)
    assert indexes() == before
    assert Signatory.objects.filter(letter__synthetic=True).exists()


class LoadFailed(Exception):
    pass


def failing_load(deferred, check):
    with transaction.atomic(), deferred:
        check()
        raise LoadFailed


def test_a_failed_load_restores_the_indexes(db):
    before = indexes()

    def dropped():
        assert all(not v for v in indexes(ROLE_MODELS).values())

    with pytest.raises(LoadFailed):
        failing_load(bulk.indexes_deferred(*ROLE_MODELS), dropped)
    assert indexes() == before


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_run_outside_a_transaction():
    assert not connection.in_atomic_block
    deferred = bulk.indexes_deferred(Signatory)
    with pytest.raises(RuntimeError, match="transaction"):
        deferred.__enter__()


def fts_triggers():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'letters_letter' ORDER BY name"
        )
        return cursor.fetchall()


@pytest.mark.sqlite
def test_generate_rebuilds_the_full_text_index_once_and_keeps_its_triggers(
    seeded, client
):
    before = fts_triggers()
    assert len(before) == 3
    synthetic.generate(letters=30, seed=6)
    assert fts_triggers() == before
    letter = Letter.objects.filter(synthetic=True, status="published").first()
    word = letter.title.split()[-1]
    found = client.get("/api/v1/letters/", {"search": word, "page_size": 500}).json()
    assert letter.identifier in [r["identifier"] for r in found["results"]]
    # A name reaches the index through names_text, written after the letters.
    signer = letter.signatories.exclude(person=None).first().person
    found = client.get(
        "/api/v1/letters/", {"search": signer.display_name, "page_size": 500}
    ).json()
    assert letter.identifier in [r["identifier"] for r in found["results"]]
    # The triggers work again: a later save is searchable at once.
    letter.title = "Quintessentially unmistakable"
    letter.save()
    found = client.get("/api/v1/letters/", {"search": "quintessentially"}).json()
    assert [r["identifier"] for r in found["results"]] == [letter.identifier]


@pytest.mark.sqlite
def test_a_failed_load_restores_the_full_text_triggers(db):
    before = fts_triggers()

    def dropped():
        assert fts_triggers() == []

    with pytest.raises(LoadFailed):
        failing_load(bulk.search_index_deferred(), dropped)
    assert fts_triggers() == before


def test_instance_rows_write_what_bulk_create_writes(db):
    """Letters imported through instance_rows + insert_rows (COPY on PostgreSQL) read
    back exactly as the same instances saved by bulk_create: dates, enums, JSON,
    booleans, foreign ids, empty and null values."""
    from datetime import UTC, datetime

    from django.forms.models import model_to_dict

    from letters.models import Place
    from letters.vocabularies import DateCertainty, LetterKind

    place = Place.objects.create(key="raw-place", name="Raw", country="FR")
    when = datetime(2016, 1, 5, 10, 0, 0, tzinfo=UTC)

    def made(identifier, **extra):
        letter = Letter(
            identifier=identifier, title="T", kind=LetterKind.PRESS_RELEASE,
            date="2015-05", date_certainty=DateCertainty.INFERRED, language="fr",
            transcription="Texte accentué", status="published",
            created_at=when, updated_at=when, **extra,
        )  # fmt: skip
        letter.refresh_derived()
        return letter

    extras = {"place_id": place.pk, "synthetic": True, "seed_snapshot": {"a": [1]}}
    with transaction.atomic():
        bulk.insert_rows(
            Letter,
            *bulk.instance_rows(Letter, [made("raw-1", **extras), made("raw-2")]),
        )
    Letter.objects.bulk_create([made("orm-1", **extras), made("orm-2")])
    for raw, orm in (("raw-1", "orm-1"), ("raw-2", "orm-2")):
        got = model_to_dict(Letter.objects.get(identifier=raw), exclude=["id"])
        want = model_to_dict(Letter.objects.get(identifier=orm), exclude=["id"])
        got.pop("identifier"), want.pop("identifier")
        assert got == want
    first = Letter.objects.get(identifier="raw-1")
    assert first.date_earliest.isoformat() == "2015-05-01"
    assert first.seed_snapshot == {"a": [1]}
    assert first.synthetic is True
    assert first.updated_at == when
    assert first.place_id == place.pk
