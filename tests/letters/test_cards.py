"""Letter cards (letters.cards): the list embeds each letter's stored card, and the
cards stay exact through every kind of write, or are absent and the letter is
serialized live. A page served from cards is byte for byte the page served live."""

import orjson
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_script_prefix
from django.urls import reverse

from letters import cards, serializers, services
from letters.models import (
    Letter,
    LetterCard,
    Organisation,
    Person,
    Place,
    Signatory,
)
from tests import factories

LIST = "/api/v1/letters/"


def _page(client, path=LIST, **extra):
    response = client.get(path, **extra)
    assert response.status_code == 200, response.content[:300]
    return response.content


def _exact():
    assert cards.drift() == ([], 0)


def test_the_seed_loader_leaves_every_letter_with_an_exact_card(seeded):
    assert LetterCard.objects.count() == Letter.objects.count() == 5
    _exact()


def test_a_page_from_cards_is_the_page_served_live(client, seeded):
    from_cards = _page(client)
    LetterCard.objects.all().delete()
    assert _page(client) == from_cards
    assert orjson.loads(from_cards)["count"] == 5


def test_a_page_with_some_cards_missing_is_the_same_page(client, seeded):
    from_cards = _page(client)
    LetterCard.objects.filter(letter__identifier__in=["adv-0001", "adv-0003"]).delete()
    assert _page(client) == from_cards


def test_cards_carry_the_requests_origin_and_script_prefix(client, seeded, settings):
    """Cards hold site-relative URLs; each response completes them with its host and
    the script prefix the WSGI handler sets (a mount point such as /mirror)."""
    settings.ALLOWED_HOSTS = ["archive.example.org"]
    with override_script_prefix("/mirror/"):
        from_cards = _page(client, HTTP_HOST="archive.example.org")
        body = orjson.loads(from_cards)["results"][0]
        assert body["url"] == (
            f"http://archive.example.org/mirror/api/v1/letters/{body['identifier']}/"
        )
        assert body["signatories"][0]["person"]["url"].startswith(
            "http://archive.example.org/mirror/api/v1/persons/"
        )
        LetterCard.objects.all().delete()
        assert _page(client, HTTP_HOST="archive.example.org") == from_cards


def test_a_card_written_under_a_mount_point_stays_site_relative(client, seeded):
    with override_script_prefix("/mirror/"):
        letter = Letter.objects.get(identifier="adv-0001")
        letter.title = "Rewritten while mounted"
        letter.save()
    assert "/mirror/" not in LetterCard.objects.get(letter=letter).body
    _exact()
    assert b"/mirror/" not in _page(client)


def _csv(client, path=LIST + "?format=csv", **extra):
    response = client.get(path, **extra)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_the_csv_from_cards_is_the_csv_served_live(client, seeded, settings):
    """The CSV stream reads the stored cards too (LetterViewSet.csv_records): the
    same bytes as live serialization, with every card, some, or none, and the
    URL column completed with the request's origin and script prefix."""
    settings.ALLOWED_HOSTS = ["archive.example.org"]
    with override_script_prefix("/mirror/"):
        from_cards = _csv(client, HTTP_HOST="archive.example.org")
        assert b"http://archive.example.org/mirror/api/v1/letters/adv-0001/" in (
            from_cards
        )
        LetterCard.objects.filter(letter__identifier="adv-0003").delete()
        assert _csv(client, HTTP_HOST="archive.example.org") == from_cards
        LetterCard.objects.all().delete()
        assert _csv(client, HTTP_HOST="archive.example.org") == from_cards
    assert from_cards.count(b"\n") == 6  # the header and the five letters


def test_the_csv_from_cards_runs_no_role_query(client, seeded):
    """Letters with a card need no role rows: the roles' UNION ALL runs only for the
    letters without one."""
    with CaptureQueriesContext(connection) as queries:
        _csv(client)
    assert not any("letters_signatory" in q["sql"] for q in queries.captured_queries)
    LetterCard.objects.filter(letter__identifier="adv-0002").delete()
    with CaptureQueriesContext(connection) as queries:
        _csv(client)
    assert [q for q in queries.captured_queries if "letters_signatory" in q["sql"]]


def test_a_page_from_cards_runs_no_role_query(client, seeded):
    with CaptureQueriesContext(connection) as with_cards:
        _page(client)
    LetterCard.objects.all().delete()
    with CaptureQueriesContext(connection) as live:
        _page(client)
    assert len(with_cards) == len(live) - 1
    assert not any("letters_signatory" in q["sql"] for q in with_cards)


def test_a_letter_read_without_its_card_costs_no_query(seeded):
    letter = Letter.objects.get(identifier="adv-0001")
    with CaptureQueriesContext(connection) as queries:
        assert cards.of(letter) is None
    assert len(queries) == 0
    selected = Letter.objects.select_related("card").get(identifier="adv-0001")
    assert cards.of(selected) == LetterCard.objects.get(letter=letter).body


def _listed(queryset) -> list[tuple[str, int, str | None]]:
    return [(type(item).__name__, item.pk, cards.of(item)) for item in queryset]


@pytest.mark.parametrize("chunked", [False, True], ids=["page", "csv-iterator"])
def test_a_list_reads_a_carded_letter_as_its_id_and_card(seeded, chunked):
    """with_cards() yields a Carded for each letter with a card and builds a Letter,
    its place loaded, only for a letter without one: same rows, same order."""
    LetterCard.objects.filter(letter__identifier__in=["adv-0002", "adv-0004"]).delete()
    ordered = Letter.objects.for_api_list().order_by("-identifier")
    read = ordered.with_cards()
    with CaptureQueriesContext(connection) as queries:
        items = list(read.iterator(chunk_size=2) if chunked else read)
        places = [item.place for item in items if isinstance(item, Letter)]
    assert len(queries) == 1  # the places came with the rows
    bodies = dict(LetterCard.objects.values_list("letter_id", "body"))
    expected = [
        ("Carded", pk, bodies[pk]) if pk in bodies else ("Letter", pk, None)
        for pk in ordered.values_list("pk", flat=True)
    ]
    assert _listed(items) == expected
    assert [kind for kind, _, _ in expected].count("Letter") == 2 == len(places)
    assert all(place is not None for place in places)


def test_an_annotated_list_reads_every_letter_whole(seeded):
    """Rows that carry more than the card (an annotation) are built as Letters, the
    annotation set, the card still read with them."""
    from django.db.models import Value

    items = list(Letter.objects.for_api_list().with_cards().annotate(mark=Value(7)))
    assert {type(item) for item in items} == {Letter}
    assert {item.mark for item in items} == {7}
    assert all(cards.of(item) for item in items)


def test_indented_and_browsable_renderings_show_the_same_letters(client, seeded):
    compact = orjson.loads(_page(client))
    indented = client.get(LIST, HTTP_ACCEPT="application/json; indent=2")
    assert indented.status_code == 200
    assert b'\n  "count"' in indented.content
    assert orjson.loads(indented.content) == compact
    html = client.get(LIST, HTTP_ACCEPT="text/html")
    assert html.status_code == 200
    assert compact["results"][0]["title"].encode() in html.content.replace(
        b"&amp;", b"&"
    )


def _shown(client, identifier):
    for letter in orjson.loads(_page(client, page_size=50))["results"]:
        if letter["identifier"] == identifier:
            return letter
    raise AssertionError(f"{identifier} is not on the page")


def _edit_title(letter):
    letter.title = "A new title for the card"
    letter.save()
    return lambda shown: shown["title"] == "A new title for the card"


def _edit_signatory(letter):
    signatory = letter.signatories.order_by("position").first()
    signatory.name_as_written = "Name As Newly Read"
    signatory.save()
    return lambda shown: any(
        s["name_as_written"] == "Name As Newly Read" for s in shown["signatories"]
    )


def _add_mention(letter):
    factories.MentionFactory(letter=letter, person__display_name="Newly Mentioned")
    return lambda shown: any(
        (m["person"] or {}).get("name") == "Newly Mentioned" for m in shown["mentions"]
    )


def _delete_signatory(letter):
    signatory = letter.signatories.order_by("position").first()
    written = signatory.name_as_written
    signatory.delete()
    return lambda shown: (
        written not in {s["name_as_written"] for s in shown["signatories"]}
    )


def _rename_person(letter):
    person = letter.signatories.exclude(person=None).first().person
    person.display_name = "Renamed Person"
    person.save()
    return lambda shown: any(
        (s["person"] or {}).get("name") == "Renamed Person"
        for s in shown["signatories"]
    )


def _rekey_person(letter):
    person = letter.signatories.exclude(person=None).first().person
    person.key = "a-new-key"
    person.save()
    return lambda shown: any(
        (s["person"] or {}).get("key") == "a-new-key" for s in shown["signatories"]
    )


def _rename_organisation(letter):
    organisation = letter.issuers.first().organisation
    organisation.acronym = "NEWACR"
    organisation.save()
    return lambda shown: shown["issuing_organisations"][0]["acronym"] == "NEWACR"


def _rename_place(letter):
    place = letter.place
    place.name = "Renamed Place"
    place.save()
    return lambda shown: shown["place"]["name"] == "Renamed Place"


def _move_place(letter):
    letter.place = factories.PlaceFactory(name="Another Place")
    letter.save()
    return lambda shown: shown["place"]["name"] == "Another Place"


@pytest.mark.parametrize(
    "edit",
    [
        _edit_title,
        _edit_signatory,
        _add_mention,
        _delete_signatory,
        _rename_person,
        _rekey_person,
        _rename_organisation,
        _rename_place,
        _move_place,
    ],
)
def test_every_write_a_card_shows_rebuilds_it(client, db, edit):
    letter = factories.LetterFactory(status="published")
    factories.SignatoryFactory(letter=letter, position=1)
    factories.SignatoryFactory(letter=letter, position=2)
    factories.IssuerFactory(letter=letter)
    letter.place = factories.PlaceFactory()
    letter.save()
    before = LetterCard.objects.get(letter=letter).body

    shows_the_edit = edit(letter)

    assert LetterCard.objects.get(letter=letter).body != before
    _exact()
    assert shows_the_edit(_shown(client, letter.identifier))


def test_a_rename_in_the_admin_rebuilds_the_cards(curator_client, seeded):
    person = Person.objects.get(key="laurent-fabius")
    url = reverse("admin:letters_person_change", args=[person.pk])
    form = curator_client.get(url).context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update(display_name="Laurent Fabius (renamed)")
    for prefix in ("identifiers", "memberships"):  # the inlines, unchanged
        for name in ("TOTAL", "INITIAL", "MIN_NUM", "MAX_NUM"):
            data.setdefault(f"{prefix}-{name}_FORMS", "0")
    response = curator_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    _exact()
    names = {
        (a["person"] or {}).get("name")
        for letter in orjson.loads(_page(curator_client))["results"]
        for a in letter["addressees"]
    }
    assert "Laurent Fabius (renamed)" in names


def test_deleting_a_letter_deletes_its_card(db):
    letter = factories.LetterFactory(status="published")
    factories.SignatoryFactory(letter=letter)
    pk = letter.pk
    assert LetterCard.objects.filter(letter_id=pk).exists()
    letter.delete()
    assert not LetterCard.objects.filter(letter_id=pk).exists()
    connection.check_constraints()  # no card left pointing at the deleted letter


def test_a_rolled_back_rename_leaves_the_cards_as_they_were(seeded):
    before = dict(LetterCard.objects.values_list("letter_id", "body"))

    def rename_then_fail():
        with transaction.atomic():
            person = Person.objects.get(key="laurent-fabius")
            person.display_name = "Never Committed"
            person.save()
            assert LetterCard.objects.filter(body__contains="Never Committed").exists()
            raise RuntimeError

    with pytest.raises(RuntimeError):
        rename_then_fail()
    assert dict(LetterCard.objects.values_list("letter_id", "body")) == before


@pytest.mark.parametrize(
    ("model", "ref"),
    [
        ("Person", serializers.person_ref),
        ("Organisation", serializers.organisation_ref),
        ("Place", serializers.place_ref),
    ],
)
def test_the_watched_fields_are_the_fields_each_ref_shows(model, ref):
    """footprint rebuilds the cards when one of REF_FIELDS changes: they must be
    exactly what the ref reads of the record (besides its id)."""
    read = set()

    class Recorder:
        def __getattr__(self, name):
            read.add(name)
            return 1

    ref(serializers.LetterSerializer(context={}), Recorder())
    assert read - {"pk", "id"} == set(serializers.REF_FIELDS[model])


def test_a_bulk_update_of_a_shown_field_rebuilds_the_cards(client, db):
    letters = factories.LetterFactory.create_batch(2, status="published")
    ids = [letter.pk for letter in letters]
    Letter.objects.filter(pk__in=ids).update(summary="Summarised in bulk")
    _exact()
    for letter in letters:
        assert _shown(client, letter.identifier)["summary"] == "Summarised in bulk"


def test_a_bulk_update_of_an_unshown_field_rebuilds_nothing(db):
    letter = factories.LetterFactory(status="published")
    with CaptureQueriesContext(connection) as queries:
        Letter.objects.filter(pk=letter.pk).update(notes="curator's note")
    assert not any("letters_lettercard" in q["sql"] for q in queries)


def test_a_service_status_change_keeps_the_cards_exact(db, curator):
    letter = factories.LetterFactory(status="draft")
    factories.SignatoryFactory(letter=letter)
    services.letter_set_status(letter=letter, status="published", actor=curator)
    Letter.objects.filter(pk=letter.pk).update(status="draft")
    _exact()


def test_the_command_checks_rebuilds_and_fills_the_cards(seeded, capsys):
    card = LetterCard.objects.order_by("pk").first()
    shown = orjson.loads(card.body)
    shown["title"] = "tampered"
    LetterCard.objects.filter(pk=card.pk).update(body=orjson.dumps(shown).decode())
    with pytest.raises(CommandError, match="1 letter card"):
        call_command("letter_cards", "--check")
    assert f"Letter {card.pk}:" in capsys.readouterr().err

    call_command("letter_cards", "--rebuild")
    call_command("letter_cards", "--check")
    assert "matches" in capsys.readouterr().out

    LetterCard.objects.filter(pk=card.pk).delete()
    call_command("letter_cards", "--check")
    assert "1 letter(s) without a card" in capsys.readouterr().out
    call_command("letter_cards")
    assert "Wrote 1 letter card(s)." in capsys.readouterr().out
    _exact()


def test_generate_corpus_builds_the_cards_after_its_commit(db, capsys):
    call_command("generate_corpus", "--letters", "30", "--seed", "3")
    assert "Built 30 letter cards" in capsys.readouterr().out
    _exact()
    synthetic = Letter.objects.filter(synthetic=True)
    assert LetterCard.objects.filter(letter__in=synthetic).count() == 30


def test_no_cards_leaves_them_to_the_command_and_the_list_serves_live(client, db):
    call_command("generate_corpus", "--letters", "20", "--seed", "3", "--no-cards")
    assert LetterCard.objects.count() == 5  # the seeds' only
    live = _page(client, page_size=50)
    call_command("letter_cards")
    assert LetterCard.objects.count() == 25
    assert _page(client, page_size=50) == live


def test_a_signatory_moved_to_another_letter_rebuilds_both_cards(db):
    first, second = factories.LetterFactory.create_batch(2, status="published")
    signatory = factories.SignatoryFactory(letter=first, name_as_written="Moving On")
    signatory.letter = second
    signatory.save()
    _exact()
    assert "Moving On" not in LetterCard.objects.get(letter=first).body
    assert "Moving On" in LetterCard.objects.get(letter=second).body
    assert Signatory.objects.filter(name_as_written="Moving On").count() == 1


def test_an_unrelated_save_rebuilds_nothing(db):
    factories.SignatoryFactory()
    organisation = Organisation.objects.create(key="unrelated", name="Unrelated")
    place = Place.objects.create(key="nowhere", name="Nowhere")
    with CaptureQueriesContext(connection) as queries:
        organisation.country = "FR"
        organisation.save()
        place.country = "FR"
        place.save()
    assert not any("letters_lettercard" in q["sql"] for q in queries)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_rebuild_waits_for_a_concurrent_rename_and_reads_it():
    """Two committed transactions on PostgreSQL: a rename that has not committed yet
    holds its letters' rows; a rebuild of the same card waits for it, then reads the
    new name, instead of writing a card from the rows as they were."""
    import threading
    import time

    signatory = factories.SignatoryFactory(letter__status="published")
    letter, person = signatory.letter, signatory.person
    renamed, release, failures = threading.Event(), threading.Event(), []

    def in_thread(work):
        def run():
            try:
                work()
            except Exception as exc:  # reported by the assertions below
                failures.append(exc)
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    def rename():
        with transaction.atomic():
            same = Person.objects.get(pk=person.pk)
            same.display_name = "Renamed Concurrently"
            same.save()
            renamed.set()
            assert release.wait(10)

    renaming = in_thread(rename)
    assert renamed.wait(10)
    rebuilding = in_thread(lambda: cards.rebuild([letter.pk]))
    time.sleep(0.5)
    assert rebuilding.is_alive()  # waiting for the rename's row locks
    release.set()
    renaming.join(10)
    rebuilding.join(10)
    assert failures == []
    assert "Renamed Concurrently" in LetterCard.objects.get(letter=letter).body
    assert cards.drift() == ([], 0)
