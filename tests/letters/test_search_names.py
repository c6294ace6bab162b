"""The names of everyone a letter involves are part of its full-text document
(Letter.names_text, letters.search) and stay exact through every kind of write: a role
added, moved or removed, a person or organisation renamed, services' deferred writes,
a rolled-back transaction, bulk writes. Runs on both engines (FTS5 and tsvector)."""

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from letters import search
from letters.models import Letter, Organisation, Person
from tests import factories

L = "/api/v1/letters/"


def found(api, term):
    body = api(L, search=term, ordering="identifier")
    return [row["identifier"] for row in body["results"]]


@pytest.fixture
def letter(db):
    return factories.LetterFactory(identifier="names-1", transcription="Dear Minister")


def test_every_role_puts_its_names_into_the_document(api, letter):
    factories.SignatoryFactory(
        letter=letter,
        person=factories.PersonFactory(display_name="Ánnika Wąsik", sort_name="Wąsik"),
        organisation=factories.OrganisationFactory(name="Grüne Fraktion"),
    )
    factories.AddresseeFactory(
        letter=letter,
        role="cc",
        person=factories.PersonFactory(display_name="Bo Ccfolk"),
    )
    factories.AddresseeFactory(
        letter=letter,
        person=None,
        organisation=factories.OrganisationFactory(name="Ministère Zeta"),
    )
    factories.MentionFactory(
        letter=letter, person=factories.PersonFactory(display_name="Quill Mentioned")
    )
    factories.IssuerFactory(
        letter=letter, organisation=factories.OrganisationFactory(name="Issuing NGO")
    )
    for term in [
        "wasik",
        "ANNIKA",
        "grune",
        "ccfolk",
        "ministere zeta",
        "quill",
        "issuing",
    ]:
        assert found(api, term) == ["names-1"], term
    # every token must match (in names or text), and only as a word's beginning
    assert found(api, "wasik minister") == ["names-1"]
    assert found(api, "wasik nobody") == []
    assert found(api, "asik") == []
    assert search.names_drift() == []


def test_renaming_a_person_or_organisation_rewrites_their_letters(api, letter):
    signatory = factories.SignatoryFactory(
        letter=letter, person=factories.PersonFactory(display_name="Old Surname")
    )
    issuer = factories.IssuerFactory(
        letter=letter, organisation=factories.OrganisationFactory(name="Old Body")
    )
    assert found(api, "surname") == ["names-1"]

    person = signatory.person
    person.display_name = person.sort_name = "Nouveau Nom"
    person.save()
    body = issuer.organisation
    body.name = "Renamed Body"
    body.save()
    assert found(api, "surname") == []
    assert found(api, "nouveau") == ["names-1"]
    assert found(api, "old") == []
    assert found(api, "renamed") == ["names-1"]
    assert search.names_drift() == []


def test_moving_and_removing_a_role_moves_the_name(api, letter):
    other = factories.LetterFactory(identifier="names-2")
    mention = factories.MentionFactory(
        letter=letter, person=factories.PersonFactory(display_name="Wandering Name")
    )
    assert found(api, "wandering") == ["names-1"]
    mention.letter = other
    mention.save()
    assert found(api, "wandering") == ["names-2"]
    mention.delete()
    assert found(api, "wandering") == []
    assert search.names_drift() == []


def test_a_rolled_back_role_leaves_the_document_as_it_was(api, letter):
    seen_inside = []

    def add_then_fail():
        with transaction.atomic():
            factories.MentionFactory(
                letter=letter, person=factories.PersonFactory(display_name="Ghost Name")
            )
            seen_inside.append(found(api, "ghost"))
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        add_then_fail()
    assert seen_inside == [["names-1"]]
    assert found(api, "ghost") == []
    assert Letter.objects.get(pk=letter.pk).names_text == ""


def test_the_seeded_documents_are_exact_and_the_check_finds_drift(seeded, capsys):
    assert search.names_drift() == []
    fabius = Person.objects.get(key="laurent-fabius")
    assert "fabius" in Letter.objects.get(identifier="adv-0001").names_text
    # a hand-written change behind the application's back: the check reports it
    Person.objects.filter(pk=fabius.pk).update(search_text="someone else")
    Organisation.objects.filter(key="human-rights-watch").update(search_text="x")
    with pytest.raises(CommandError, match="differs"):
        call_command("refresh_footprint", "--check")
    err = capsys.readouterr().err
    assert "Letter adv-0001: names_text differs" in err
    call_command("refresh_footprint")
    assert search.names_drift() == []
    assert "someone else" in Letter.objects.get(identifier="adv-0001").names_text


def test_the_whole_archive_refresh_writes_what_the_per_letter_refresh_writes(
    seeded, monkeypatch
):
    """refresh_names() over everything works range by range, set-based; refreshing
    letter by letter uses one correlated query each. Both must write the same text."""
    from letters import synthetic

    synthetic.generate(letters=120, seed=9)
    ids = list(Letter.objects.values_list("pk", flat=True))
    by_letter = dict(Letter.objects.values_list("pk", "names_text"))
    assert sum(bool(text) for text in by_letter.values()) > 100
    Letter.objects.update(names_text="")
    search.refresh_names(ids)
    assert dict(Letter.objects.values_list("pk", "names_text")) == by_letter
    Letter.objects.filter(pk__in=ids[::3]).update(names_text="stale")
    monkeypatch.setattr(search, "RANGE", 7)  # many ranges, some empty
    assert len(search.names_drift(limit=1000)) == len(ids[::3])
    search.refresh_names()
    assert dict(Letter.objects.values_list("pk", "names_text")) == by_letter
    assert search.names_drift() == []
