"""The database refuses records that break the archive's rules, even when the
application's validation is bypassed (QuerySet.update, raw saves)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from letters.models import (
    Addressee,
    ExternalIdentifier,
    Letter,
    Membership,
    Mention,
    Organisation,
    Person,
    Signatory,
)
from tests.factories import (
    LetterFactory,
    MembershipFactory,
    OrganisationFactory,
    PersonFactory,
    SignatoryFactory,
)


def refused(callable_):
    with pytest.raises(IntegrityError), transaction.atomic():
        callable_()


def test_an_unidentified_signature_cannot_name_a_person(db):
    person = PersonFactory()
    letter = LetterFactory()
    refused(
        lambda: Signatory.objects.create(
            letter=letter,
            position=1,
            person=person,
            certainty="unidentified",
            name_as_written="illegible",
        )
    )


def test_an_identified_signature_needs_a_person(db):
    refused(
        lambda: Signatory.objects.create(
            letter=LetterFactory(), position=1, certainty="certain", name_as_written="x"
        )
    )


def test_an_unidentified_signature_keeps_its_text(db):
    refused(
        lambda: Signatory.objects.create(
            letter=LetterFactory(),
            position=1,
            certainty="unidentified",
            name_as_written="",
        )
    )


def test_an_unidentified_signature_with_its_text_is_kept(db):
    row = Signatory.objects.create(
        letter=LetterFactory(),
        position=1,
        certainty="unidentified",
        name_as_written="lyal",
    )
    assert row.person is None


def test_two_signatories_cannot_share_a_position(db):
    first = SignatoryFactory(position=1)
    refused(lambda: SignatoryFactory(letter=first.letter, position=1))


def test_signature_positions_start_at_one(db):
    refused(lambda: SignatoryFactory(position=0))


def test_an_addressee_names_someone(db):
    refused(
        lambda: Addressee.objects.create(letter=LetterFactory(), position=1, role="to")
    )


def test_an_addressee_role_is_to_or_cc(db):
    refused(
        lambda: Addressee.objects.create(
            letter=LetterFactory(), position=1, role="xx", person=PersonFactory()
        )
    )


def test_a_mention_names_exactly_one_entity(db):
    refused(
        lambda: Mention.objects.create(
            letter=LetterFactory(),
            person=PersonFactory(),
            organisation=OrganisationFactory(),
        )
    )


def test_a_letter_kind_outside_the_vocabulary_is_refused(db):
    letter = LetterFactory()
    refused(lambda: Letter.objects.filter(pk=letter.pk).update(kind="tweet"))


def test_a_letter_status_outside_the_vocabulary_is_refused(db):
    letter = LetterFactory()
    refused(lambda: Letter.objects.filter(pk=letter.pk).update(status="public"))


def test_date_bounds_must_agree(db):
    letter = LetterFactory(date="2015-05")
    refused(
        lambda: Letter.objects.filter(pk=letter.pk).update(
            date_earliest="2015-06-01", date_latest="2015-05-01"
        )
    )
    refused(lambda: Letter.objects.filter(pk=letter.pk).update(date_earliest=None))


def test_a_partial_date_sets_precision_and_bounds(db):
    letter = LetterFactory(date="2015-05")
    letter.refresh_from_db()
    assert (
        letter.date_precision,
        str(letter.date_earliest),
        str(letter.date_latest),
    ) == ("month", "2015-05-01", "2015-05-31")


def test_an_invalid_date_is_a_validation_error_naming_the_field(db):
    letter = LetterFactory.build(date="2015-13")
    with pytest.raises(ValidationError) as exc:
        letter.full_clean()
    assert "date" in exc.value.message_dict


def test_the_identifier_is_permanent(db):
    letter = LetterFactory(identifier="keep-0001")
    letter.identifier = "other-0001"
    with pytest.raises(ValidationError) as exc:
        letter.full_clean()
    assert "permanent" in str(exc.value.message_dict["identifier"])


def test_identifiers_are_checked_against_their_scheme(db):
    person = PersonFactory()
    refused(
        lambda: ExternalIdentifier.objects.create(
            person=person, scheme="wikidata", value="12"
        )
    )
    refused(
        lambda: ExternalIdentifier.objects.create(
            person=person, scheme="ep_mep", value="Q1"
        )
    )
    ExternalIdentifier.objects.create(person=person, scheme="wikidata", value="Q42")


def test_an_identifier_belongs_to_one_record(db):
    refused(lambda: ExternalIdentifier.objects.create(scheme="wikidata", value="Q1"))
    refused(
        lambda: ExternalIdentifier.objects.create(
            scheme="wikidata",
            value="Q2",
            person=PersonFactory(),
            organisation=OrganisationFactory(),
        )
    )


def test_an_identifier_names_one_entity_only(db):
    ExternalIdentifier.objects.create(
        person=PersonFactory(), scheme="wikidata", value="Q7"
    )
    refused(
        lambda: ExternalIdentifier.objects.create(
            person=PersonFactory(), scheme="wikidata", value="Q7"
        )
    )


def test_a_membership_cannot_end_before_it_starts(db):
    refused(lambda: MembershipFactory(start="2016-01-01", end="2015-01-01"))


def test_an_organisation_cannot_be_its_own_ancestor(db):
    parent = OrganisationFactory()
    child = OrganisationFactory(parent=parent)
    parent.parent = child
    with pytest.raises(ValidationError):
        parent.full_clean()
    refused(lambda: Organisation.objects.filter(pk=parent.pk).update(parent=parent))


def test_memberships_held_on_a_day(empty_archive):
    running = MembershipFactory(start="2015", end="2016-06")
    MembershipFactory(start="2016-07-01")
    MembershipFactory()  # no dates: not assumed to be running
    assert list(Membership.objects.held_on("2016-06-30")) == [running]


def test_person_search_text_folds_all_names(db):
    person = PersonFactory(
        display_name="Jonás Fernández",
        sort_name="Fernández, Jonás",
        other_names="Bogusław Łukasz",
    )
    assert "jonas fernandez" in person.search_text
    assert "boguslaw lukasz" in person.search_text


def test_persons_and_organisations_share_one_key_space(db):
    """addressee= and cc= take the key of a person or of an organisation: a key must
    name one party. The database refuses a shared key by every path (a create, a
    bulk insert, an update of the key), each way round, and writes nothing."""
    person, organisation = PersonFactory(key="one"), OrganisationFactory(key="two")
    refused(lambda: PersonFactory(key="two"))
    refused(lambda: OrganisationFactory(key="one"))
    refused(
        lambda: Person.objects.bulk_create(
            [Person(key="fresh", display_name="F", sort_name="F"),
             Person(key="two", display_name="T", sort_name="T")]
        )
    )  # fmt: skip
    refused(lambda: Organisation.objects.filter(pk=organisation.pk).update(key="one"))
    refused(lambda: Person.objects.filter(pk=person.pk).update(key="two"))
    keys = {"one", "two", "fresh"}
    assert list(Person.objects.filter(key__in=keys).values_list("key")) == [("one",)]
    assert list(Organisation.objects.filter(key__in=keys).values_list("key")) == [
        ("two",)
    ]
    # Other keys and other fields are written as before.
    Person.objects.filter(pk=person.pk).update(key="three", display_name="P")
    Organisation.objects.filter(pk=organisation.pk).update(name="O")
    PersonFactory(key="four")


def test_a_key_held_by_the_other_kind_is_a_validation_error_on_key(db):
    OrganisationFactory(key="shared", name="Body")
    person = Person(key="shared", display_name="P", sort_name="P")
    with pytest.raises(ValidationError) as exc:
        person.full_clean()
    assert exc.value.message_dict == {
        "key": [
            "'shared' is already the key of the organisation \"Body\": persons "
            "and organisations share one key space."
        ]
    }
    person.key = "own"
    person.full_clean()  # no other rule is broken
    person.save()
    organisation = Organisation(key="own", name="Other", kind="ngo")
    with pytest.raises(ValidationError, match="the key of the person"):
        organisation.full_clean()
    organisation.full_clean(exclude=["key"])  # an excluded key is not checked
