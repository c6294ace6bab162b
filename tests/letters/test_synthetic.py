"""generate_corpus: deterministic, marked synthetic, never mixed into the seeds, one
transaction."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from letters import footprint, synthetic
from letters.models import Letter, Person, Signatory


def snapshot():
    return (
        list(
            Letter.objects.filter(synthetic=True)
            .order_by("identifier")
            .values_list("identifier", "title", "date", "kind", "status")
        ),
        list(
            Signatory.objects.filter(letter__synthetic=True)
            .order_by("letter__identifier", "position")
            .values_list("letter__identifier", "position", "person__key", "certainty")
        ),
    )


def test_the_same_seed_gives_the_same_corpus(seeded):
    synthetic.generate(letters=60, seed=5)
    first = snapshot()
    synthetic.generate(letters=60, seed=5, replace=True)
    assert snapshot() == first
    synthetic.generate(letters=60, seed=6, replace=True)
    assert snapshot() != first


def test_the_corpus_has_the_shapes_of_real_campaigns(seeded):
    report = synthetic.generate(letters=400, seed=1)
    assert report.letters == 400
    assert report.signatories > 400 * 5  # many signatories per letter
    top = (
        Signatory.objects.filter(letter__synthetic=True, person__isnull=False)
        .values("person")
        .order_by()
        .annotate(n=__import__("django").db.models.Count("pk"))
        .order_by("-n")
    )
    counts = [row["n"] for row in top]
    assert counts[0] > 10 * counts[len(counts) // 2]  # a long tail
    precisions = set(
        Letter.objects.filter(synthetic=True).values_list("date_precision", flat=True)
    )
    assert {"day", "month", "year", "range"} <= precisions
    assert Signatory.objects.filter(
        letter__synthetic=True, certainty="unidentified"
    ).exists()


def test_synthetic_records_are_marked_and_the_seeds_untouched(seeded):
    before = list(
        Letter.objects.filter(synthetic=False).values_list("identifier", "updated_at")
    )
    synthetic.generate(letters=30, seed=2)
    assert footprint.drift() == []  # bulk inserts, then one full refresh
    assert Person.objects.filter(synthetic=True, is_public=True).exists()
    assert (
        not Letter.objects.filter(synthetic=True)
        .exclude(identifier__startswith="syn-")
        .exists()
    )
    assert (
        not Person.objects.filter(synthetic=True)
        .exclude(key__startswith="syn-")
        .exists()
    )
    assert (
        list(
            Letter.objects.filter(synthetic=False).values_list(
                "identifier", "updated_at"
            )
        )
        == before
    )
    synthetic.delete_synthetic()
    assert Letter.objects.count() == 5
    assert footprint.drift() == []


def test_a_second_run_without_replace_is_refused(seeded):
    call_command("generate_corpus", "--letters", "10", stdout=StringIO())
    with pytest.raises(CommandError, match="already loaded"):
        call_command("generate_corpus", "--letters", "10", stdout=StringIO())


def test_a_failure_midway_leaves_the_database_as_it_was(seeded, monkeypatch):
    before = Letter.objects.count(), Person.objects.count()

    def boom(*args, **kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(synthetic, "_insert", boom)
    with pytest.raises(RuntimeError):
        synthetic.generate(letters=50, seed=1)
    assert (Letter.objects.count(), Person.objects.count()) == before


def test_the_api_serves_the_synthetic_corpus(seeded, api):
    synthetic.generate(letters=50, seed=1)
    body = api("/api/v1/letters/", search=synthetic.COMMON_WORD, page_size=1)
    assert body["count"] > 30


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_committed_bulk_load_is_vacuumed_on_postgresql():
    """generate_corpus and import end with VACUUM (ANALYZE) once committed: the new
    pages are marked all-visible, so counts are index-only at once."""
    from django.db import connection

    def vacuumed():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_stat_get_vacuum_count('letters_letter'::regclass)"
            )
            return cursor.fetchone()[0]

    before = vacuumed()
    synthetic.generate(letters=20, seed=2)
    # Statistics reach the cumulative views asynchronously: ask for a fresh read.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
    assert vacuumed() > before
