"""factory-boy factories for records tests build by hand (seeds cover the rest)."""

import factory

from letters import models


class PlaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Place
        django_get_or_create = ["key"]

    key = factory.Sequence(lambda n: f"place-{n}")
    name = factory.Sequence(lambda n: f"Place {n}")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Person

    key = factory.Sequence(lambda n: f"person-{n}")
    display_name = factory.Sequence(lambda n: f"Person {n}")
    sort_name = factory.LazyAttribute(lambda p: p.display_name)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Organisation

    key = factory.Sequence(lambda n: f"organisation-{n}")
    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = "ngo"


class LetterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Letter

    identifier = factory.Sequence(lambda n: f"test-{n:04d}")
    title = factory.Sequence(lambda n: f"Test letter {n}")
    kind = "letter"
    date = "2015-06-01"
    language = "en"
    transcription = "Dear Minister, …"
    status = "published"


class SignatoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Signatory

    letter = factory.SubFactory(LetterFactory)
    position = factory.Sequence(lambda n: n + 1)
    person = factory.SubFactory(PersonFactory)
    name_as_written = factory.LazyAttribute(lambda s: s.person.display_name)
    certainty = "certain"


class AddresseeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Addressee

    letter = factory.SubFactory(LetterFactory)
    position = factory.Sequence(lambda n: n + 1)
    role = "to"
    person = factory.SubFactory(PersonFactory)


class MentionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Mention

    letter = factory.SubFactory(LetterFactory)
    person = factory.SubFactory(PersonFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Membership

    key = factory.Sequence(lambda n: f"membership-{n}")
    person = factory.SubFactory(PersonFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = "Member"
    status = "published"


class IssuerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Issuer

    letter = factory.SubFactory(LetterFactory)
    organisation = factory.SubFactory(OrganisationFactory)
