"""The stored public footprint (is_public and the letter counts of persons and
organisations) stays exact through every kind of write: single saves and deletes
(admin, seed loader), status changes, bulk writes, and rolled-back transactions."""

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from letters import footprint, services
from letters.models import Letter, Organisation, Person, Signatory
from tests import factories


def _reload(obj):
    obj.refresh_from_db()
    return obj


def test_the_seeded_footprint_is_exact(seeded):
    assert footprint.drift() == []
    fabius = Person.objects.get(key="laurent-fabius")
    assert fabius.is_public
    assert fabius.letters_received == 2


def test_a_draft_counts_for_nothing_until_published(db, curator):
    letter = factories.LetterFactory(status="draft")
    signatory = factories.SignatoryFactory(letter=letter)
    person = signatory.person
    assert not _reload(person).is_public
    assert person.letters_signed == 0

    services.letter_set_status(letter=letter, status="published", actor=curator)
    assert _reload(person).is_public
    assert person.letters_signed == 1
    assert footprint.drift() == []

    services.letter_set_status(letter=letter, status="draft", actor=curator)
    assert not _reload(person).is_public
    assert person.letters_signed == 0
    assert footprint.drift() == []


def test_moving_a_signature_to_another_person_moves_the_count(db):
    signatory = factories.SignatoryFactory()
    first = signatory.person
    second = factories.PersonFactory()
    assert _reload(first).letters_signed == 1

    signatory.person = second
    signatory.save()
    assert _reload(first).letters_signed == 0
    assert not first.is_public
    assert _reload(second).letters_signed == 1
    assert second.is_public

    signatory.delete()
    assert _reload(second).letters_signed == 0
    assert not second.is_public
    assert footprint.drift() == []


def test_counts_are_of_distinct_published_letters(db):
    person = factories.PersonFactory()
    letter = factories.LetterFactory()
    factories.SignatoryFactory(letter=letter, person=person, position=1)
    factories.SignatoryFactory(letter=letter, person=person, position=2)
    factories.SignatoryFactory(person=person)
    factories.AddresseeFactory(person=person, role="cc")
    factories.MentionFactory(person=person)
    _reload(person)
    assert (person.letters_signed, person.letters_received) == (2, 1)
    assert person.letters_mentioned_in == 1
    assert person.letters_total == 4  # four letters, one of them signed twice


def test_the_total_counts_a_letter_once_whatever_the_roles_in_it(db, curator):
    """letters_total: published letters in any role, each once (the facets rank by
    it). Not the sum of the role counts, nor the largest of them."""
    person = factories.PersonFactory()
    body = factories.OrganisationFactory()
    shared = factories.LetterFactory()
    factories.SignatoryFactory(letter=shared, person=person, organisation=body)
    factories.AddresseeFactory(letter=shared, person=person, role="cc")
    factories.MentionFactory(letter=shared, person=person)
    factories.IssuerFactory(letter=shared, organisation=body)
    other = factories.LetterFactory()
    factories.AddresseeFactory(letter=other, person=person, role="to")
    factories.MentionFactory(letter=other, person=None, organisation=body)
    draft = factories.LetterFactory(status="draft")
    factories.MentionFactory(letter=draft, person=person)
    _reload(person)
    _reload(body)
    assert (person.letters_signed, person.letters_received) == (1, 2)
    assert (person.letters_mentioned_in, person.letters_total) == (1, 2)
    assert (body.letters_issued, body.letters_signed_for) == (1, 1)
    assert (body.letters_mentioned_in, body.letters_total) == (1, 2)

    services.letter_set_status(letter=draft, status="published", actor=curator)
    assert _reload(person).letters_total == 3
    services.letter_set_status(letter=shared, status="draft", actor=curator)
    assert _reload(person).letters_total == 2
    assert _reload(body).letters_total == 1
    assert footprint.drift() == []


def test_letters_addressed_and_copied_follow_each_addressee_role(db, curator):
    """letters_addressed (to) and letters_copied (cc): published letters in that
    addressee role, each once; a letter naming the person both to and cc counts in
    both and once in letters_received. A change of role, of status or of person
    moves them, through the same signals as every count."""
    person = factories.PersonFactory()
    both = factories.LetterFactory()
    factories.AddresseeFactory(letter=both, person=person, role="to", position=1)
    factories.AddresseeFactory(letter=both, person=person, role="cc", position=2)
    copied = factories.AddresseeFactory(person=person, role="cc")
    factories.AddresseeFactory(person=person, role="to", letter__status="draft")
    factories.SignatoryFactory(person=person)  # another role: neither count
    _reload(person)
    assert (person.letters_addressed, person.letters_copied) == (1, 2)
    assert (person.letters_received, person.letters_total) == (2, 3)

    copied.role = "to"
    copied.save()
    assert (_reload(person).letters_addressed, person.letters_copied) == (2, 1)
    services.letter_set_status(letter=both, status="draft", actor=curator)
    assert (_reload(person).letters_addressed, person.letters_copied) == (1, 0)
    other = factories.PersonFactory()
    copied.person = other
    copied.save()
    assert (_reload(person).letters_addressed, person.letters_received) == (0, 0)
    assert (_reload(other).letters_addressed, other.letters_copied) == (1, 0)
    assert footprint.drift() == []


def test_a_save_refreshes_its_records_by_their_own_rows(db):
    """A role row's save recounts its person and organisation from their own role
    rows, each letter's status looked up by key: testing them against the set of
    every published letter (the whole refresh's plan) built that set on each save,
    255-350 ms at 100k letters instead of 4 (docs/benchmarks.md)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    letter = factories.LetterFactory()
    with CaptureQueriesContext(connection) as queries:
        signatory = factories.SignatoryFactory(letter=letter)
    grouped = [
        q["sql"] for q in queries.captured_queries if "GROUP BY pairs" in q["sql"]
    ]
    assert grouped  # the person's counts, and the organisation's if any
    for sql in grouped:
        assert "pairs.letter_id IN" not in sql
        assert 'INNER JOIN "letters_letter"' in sql
    assert _reload(signatory.person).letters_total == 1


def test_a_published_office_alone_makes_a_person_public(db):
    membership = factories.MembershipFactory(status="draft")
    assert not _reload(membership.person).is_public
    membership.status = "published"
    membership.save()
    assert _reload(membership.person).is_public
    assert membership.person.public_offices == 1
    assert _reload(membership.organisation).is_public
    membership.delete()
    assert not _reload(membership.person).is_public


def test_parents_and_grandparents_of_a_named_body_are_public(db):
    parliament = factories.OrganisationFactory(kind="parliament")
    group = factories.OrganisationFactory(parent=parliament)
    committee = factories.OrganisationFactory(parent=group)
    other = factories.OrganisationFactory()
    signatory = factories.SignatoryFactory(organisation=committee)
    assert [_reload(o).is_public for o in (parliament, group, committee, other)] == [
        True,
        True,
        True,
        False,
    ]
    # the committee moves under another body: the old parents are hidden again
    committee.parent = other
    committee.save()
    assert [_reload(o).is_public for o in (parliament, group, committee, other)] == [
        False,
        False,
        True,
        True,
    ]
    signatory.letter.delete()
    assert not any(_reload(o).is_public for o in (parliament, group, committee, other))
    assert footprint.drift() == []


def test_a_bulk_status_update_refreshes_everyone_involved(db):
    letters = factories.LetterFactory.create_batch(3, status="draft")
    people = [factories.SignatoryFactory(letter=letter).person for letter in letters]
    Letter.objects.filter(pk__in=[letter.pk for letter in letters]).update(
        status="published"
    )
    assert all(_reload(p).is_public for p in people)
    assert footprint.drift() == []


def test_a_rolled_back_change_leaves_the_footprint_as_it_was(db):
    signatory = factories.SignatoryFactory()
    person = signatory.person
    seen_inside = []

    def delete_then_fail():
        with transaction.atomic():
            signatory.delete()
            seen_inside.append(_reload(person).letters_signed)
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        delete_then_fail()
    assert seen_inside == [0]
    assert _reload(person).letters_signed == 1
    assert footprint.drift() == []


def test_deferred_refreshes_once_at_the_end(db):
    letter = factories.LetterFactory()
    people = factories.PersonFactory.create_batch(5)
    with footprint.deferred():
        for n, person in enumerate(people, start=1):
            Signatory.objects.create(
                letter=letter, person=person, position=n, name_as_written="x"
            )
        # inside the block nothing is refreshed yet
        assert not any(_reload(p).is_public for p in people)
    assert all(_reload(p).is_public for p in people)


def test_the_check_command_finds_drift_and_the_refresh_fixes_it(seeded, capsys):
    call_command("refresh_footprint", "--check")
    Person.objects.filter(key="laurent-fabius").update(letters_received=99)
    Organisation.objects.filter(key="human-rights-watch").update(is_public=False)
    with pytest.raises(CommandError, match="differs"):
        call_command("refresh_footprint", "--check")
    err = capsys.readouterr().err
    assert "letters_received is 99, should be 2" in err
    assert "is_public is False, should be True" in err
    call_command("refresh_footprint")
    assert footprint.drift() == []
    # The counts by addressee role too (Fabius: one letter to him, one cc).
    Person.objects.filter(key="laurent-fabius").update(letters_copied=0)
    assert footprint.drift() == [
        f"Person {Person.objects.get(key='laurent-fabius').pk}: "
        "letters_copied is 0, should be 1"
    ]
    call_command("refresh_footprint")
    assert footprint.drift() == []
    # The total is checked on its own: drift recounts it, not the refresh's pass.
    Person.objects.filter(key="laurent-fabius").update(letters_total=7)
    assert footprint.drift() == [
        f"Person {Person.objects.get(key='laurent-fabius').pk}: "
        "letters_total is 7, should be 2"
    ]
    call_command("refresh_footprint")
    assert footprint.drift() == []
