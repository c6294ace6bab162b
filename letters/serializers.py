"""Read-only serializers of the public API. They never trigger queries: everything they
read is selected or prefetched by the querysets in letters/querysets.py. Curator notes,
contact details and snapshot fields are never declared here, so they cannot leak."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from letters.models import (
    Addressee,
    ExternalIdentifier,
    Letter,
    Membership,
    Mention,
    Organisation,
    Person,
    Place,
    Signatory,
)
from letters.querysets import PUBLISHED
from letters.vocabularies import LetterKind

_SLOT = "__slot__"


def _url(serializer, name: str, **kwargs) -> str:
    """Absolute URL without the request's query (no ?format=csv in CSV cells).

    A page of letters links hundreds of records; reversing each URL costs more than
    the database work, so the URL pattern is reversed once per request and filled in.
    """
    ((key, value),) = kwargs.items()
    context = serializer.context
    templates = (
        context.setdefault("_url_templates", {}) if isinstance(context, dict) else {}
    )
    template = templates.get(name)
    if template is None:
        path = reverse(name, kwargs={key: _SLOT})
        request = context.get("request")
        template = request.build_absolute_uri(path) if request is not None else path
        templates[name] = template
    return template.replace(_SLOT, str(value))


# The fields of a linked record that the refs below show (besides its id): a letter's
# card shows them, so letters.footprint rebuilds the cards when one of them changes.
REF_FIELDS = {
    "Person": ("key", "display_name"),
    "Organisation": ("key", "name", "acronym"),
    "Place": ("key", "name", "country"),
}


def person_ref(serializer, obj) -> dict | None:
    if obj is None:
        return None
    return {
        "id": obj.pk,
        "key": obj.key,
        "url": _url(serializer, "person-detail", pk=obj.pk),
        "name": obj.display_name,
    }


def organisation_ref(serializer, obj) -> dict | None:
    if obj is None:
        return None
    return {
        "id": obj.pk,
        "key": obj.key,
        "url": _url(serializer, "organisation-detail", pk=obj.pk),
        "name": obj.name,
        "acronym": obj.acronym,
    }


def place_ref(serializer, obj) -> dict | None:
    if obj is None:
        return None
    return {
        "id": obj.pk,
        "key": obj.key,
        "url": _url(serializer, "place-detail", pk=obj.pk),
        "name": obj.name,
        "country": obj.country,
    }


class PersonRefSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    name = serializers.CharField(source="display_name")

    class Meta:
        model = Person
        fields = ["id", "key", "url", "name"]

    def get_url(self, obj) -> str:
        return _url(self, "person-detail", pk=obj.pk)

    def to_representation(self, instance):
        return person_ref(self, instance)


class OrganisationRefSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Organisation
        fields = ["id", "key", "url", "name", "acronym"]

    def get_url(self, obj) -> str:
        return _url(self, "organisation-detail", pk=obj.pk)

    def to_representation(self, instance):
        return organisation_ref(self, instance)


class PlaceRefSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Place
        fields = ["id", "key", "url", "name", "country"]

    def get_url(self, obj) -> str:
        return _url(self, "place-detail", pk=obj.pk)

    def to_representation(self, instance):
        return place_ref(self, instance)


class LetterRefSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Letter
        fields = ["identifier", "url", "title", "kind", "date"]

    def get_url(self, obj) -> str:
        return _url(self, "letter-detail", identifier=obj.identifier)


# The letter columns a LetterRefSerializer reads (`url` is built from the
# identifier), and the one lists of references are ordered by.
LETTER_REF_COLUMNS = (
    *(f for f in LetterRefSerializer.Meta.fields if f != "url"),
    "date_earliest",
)


class SignatorySerializer(serializers.ModelSerializer):
    person = PersonRefSerializer(allow_null=True)
    organisation = OrganisationRefSerializer(allow_null=True)
    note = serializers.CharField(source="identification_note")

    class Meta:
        model = Signatory
        fields = [
            "position",
            "name_as_written",
            "person",
            "capacity",
            "organisation",
            "certainty",
            "note",
        ]

    def to_representation(self, obj):
        return {
            "position": obj.position,
            "name_as_written": obj.name_as_written,
            "person": person_ref(self, obj.person),
            "capacity": obj.capacity,
            "organisation": organisation_ref(self, obj.organisation),
            "certainty": obj.certainty,
            "note": obj.identification_note,
        }


class AddresseeSerializer(serializers.ModelSerializer):
    person = PersonRefSerializer(allow_null=True)
    organisation = OrganisationRefSerializer(allow_null=True)
    note = serializers.CharField(source="identification_note")

    class Meta:
        model = Addressee
        fields = [
            "role",
            "person",
            "organisation",
            "office_as_written",
            "certainty",
            "note",
        ]

    def to_representation(self, obj):
        return {
            "role": obj.role,
            "person": person_ref(self, obj.person),
            "organisation": organisation_ref(self, obj.organisation),
            "office_as_written": obj.office_as_written,
            "certainty": obj.certainty,
            "note": obj.identification_note,
        }


class MentionSerializer(serializers.ModelSerializer):
    person = PersonRefSerializer(allow_null=True)
    organisation = OrganisationRefSerializer(allow_null=True)
    note = serializers.CharField(source="identification_note")

    class Meta:
        model = Mention
        fields = ["person", "organisation", "name_as_written", "certainty", "note"]

    def to_representation(self, obj):
        return {
            "person": person_ref(self, obj.person),
            "organisation": organisation_ref(self, obj.organisation),
            "name_as_written": obj.name_as_written,
            "certainty": obj.certainty,
            "note": obj.identification_note,
        }


class SourceSerializer(serializers.Serializer):
    file = serializers.CharField(source="source_file")
    sha256 = serializers.CharField(source="source_sha256")


class LetterSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=LetterKind.choices)
    date = serializers.CharField(
        help_text="ISO 8601, as precise as known: 2015-05-18, 2015-05, 2015, or an "
        "interval 2015-05/2015-06. Empty when undated."
    )
    place = PlaceRefSerializer(allow_null=True)
    addressees = AddresseeSerializer(many=True)
    signatories = SignatorySerializer(many=True)
    issuing_organisations = serializers.SerializerMethodField()
    mentions = MentionSerializer(many=True)
    source = SourceSerializer(source="*")

    class Meta:
        model = Letter
        fields = [
            "identifier",
            "url",
            "title",
            "kind",
            "date",
            "date_as_written",
            "date_precision",
            "date_certainty",
            "place",
            "language",
            "summary",
            "addressees",
            "signatories",
            "issuing_organisations",
            "mentions",
            "source",
        ]

    def get_url(self, obj) -> str:
        return _url(self, "letter-detail", identifier=obj.identifier)

    @extend_schema_field(OrganisationRefSerializer(many=True))
    def get_issuing_organisations(self, obj):
        return [organisation_ref(self, i.organisation) for i in obj.issuers.all()]

    def to_representation(self, obj):
        """The declared fields, written out: a page of 50 letters holds over a
        thousand nested records, and DRF's generic field walk cost more than the
        queries (tests compare this to the declared schema)."""
        data = {
            "identifier": obj.identifier,
            "url": _url(self, "letter-detail", identifier=obj.identifier),
            "title": obj.title,
            "kind": obj.kind,
            "date": obj.date,
            "date_as_written": obj.date_as_written,
            "date_precision": obj.date_precision,
            "date_certainty": obj.date_certainty,
            "place": place_ref(self, obj.place),
            "language": obj.language,
            "summary": obj.summary,
            "addressees": [
                AddresseeSerializer.to_representation(self, a)
                for a in obj.addressees.all()
            ],
            "signatories": [
                SignatorySerializer.to_representation(self, s)
                for s in obj.signatories.all()
            ],
            "issuing_organisations": self.get_issuing_organisations(obj),
            "mentions": [
                MentionSerializer.to_representation(self, m) for m in obj.mentions.all()
            ],
            "source": {"file": obj.source_file, "sha256": obj.source_sha256},
        }
        if "transcription" in self.Meta.fields:
            data["transcription"] = obj.transcription
        return data


class LetterDetailSerializer(LetterSerializer):
    class Meta(LetterSerializer.Meta):
        fields = [*LetterSerializer.Meta.fields, "transcription"]


class IdentifierSerializer(serializers.ModelSerializer):
    url = serializers.CharField(read_only=True)

    class Meta:
        model = ExternalIdentifier
        fields = ["scheme", "value", "url"]


class OfficeSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    person = PersonRefSerializer()
    organisation = OrganisationRefSerializer()
    post = serializers.CharField(source="post.label", allow_null=True, default=None)
    attested_by = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = [
            "id",
            "url",
            "person",
            "organisation",
            "post",
            "role",
            "start",
            "end",
            "attested_by",
            "source_note",
        ]

    def get_url(self, obj) -> str:
        return _url(self, "office-detail", pk=obj.pk)

    @extend_schema_field(LetterRefSerializer(allow_null=True))
    def get_attested_by(self, obj):
        letter = obj.attested_by
        if letter is None or letter.status != PUBLISHED:
            return None
        return LetterRefSerializer(letter, context=self.context).data


class PersonOfficeSerializer(OfficeSerializer):
    class Meta(OfficeSerializer.Meta):
        fields = [f for f in OfficeSerializer.Meta.fields if f != "person"]


class PersonSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    name = serializers.CharField(source="display_name")
    other_names = serializers.ListField(
        source="other_names_list", child=serializers.CharField()
    )
    identifiers = IdentifierSerializer(many=True)
    offices = PersonOfficeSerializer(many=True, source="public_memberships")
    letters_signed = serializers.IntegerField()
    letters_received = serializers.IntegerField(
        help_text="Published letters addressed or copied to them."
    )
    letters_addressed = serializers.IntegerField(
        help_text="Published letters addressed to them (to)."
    )
    letters_copied = serializers.IntegerField(
        help_text="Published letters copied to them (cc). One letter can do both: "
        "with letters_addressed, at least letters_received."
    )
    letters_mentioned_in = serializers.IntegerField()
    letters_total = serializers.IntegerField(
        help_text="Published letters in which they appear in any role, each letter "
        "once (not the sum of the counts above: one letter can name them in several)."
    )

    class Meta:
        model = Person
        fields = [
            "id",
            "key",
            "url",
            "name",
            "sort_name",
            "other_names",
            "honorific",
            "country",
            "description",
            "identifiers",
            "offices",
            "letters_signed",
            "letters_received",
            "letters_addressed",
            "letters_copied",
            "letters_mentioned_in",
            "letters_total",
        ]

    def get_url(self, obj) -> str:
        return _url(self, "person-detail", pk=obj.pk)


class ReceivedLetterSerializer(LetterRefSerializer):
    role = serializers.CharField()

    class Meta(LetterRefSerializer.Meta):
        fields = [*LetterRefSerializer.Meta.fields, "role"]


# A person's or organisation's page embeds the first letters of each role, in date
# order; `letter_lists` links each role's whole list in the letters API, and the
# letters_* counts say how many there are. The whole lists were unbounded: the page
# of a person who signed 53,000 letters at 100k was 10 MB and took 2.9 s.
DETAIL_LETTERS = 100
FIRST_LETTERS = (
    f"The first published letters in this role (at most {DETAIL_LETTERS}, in date "
    "order); `letter_lists` links them all and the letters_* fields count them."
)


def _letter_lists(serializer, key: str, roles: dict[str, tuple]) -> dict[str, str]:
    """Each role's whole list in the letters API: (filter, role) values that list
    exactly the letters of that role."""
    request = serializer.context.get("request")
    path = reverse("letter-list")
    base = request.build_absolute_uri(path) if request is not None else path
    return {
        role: f"{base}?{urlencode({name: key, 'role': value})}"
        for role, (name, value) in roles.items()
    }


class PersonLettersSerializer(serializers.Serializer):
    signed = LetterRefSerializer(many=True, help_text=FIRST_LETTERS)
    received = ReceivedLetterSerializer(many=True, help_text=FIRST_LETTERS)
    mentioned_in = LetterRefSerializer(many=True, help_text=FIRST_LETTERS)


ALL_LETTERS = "Every published letter in this role: the letters list, paginated."


class PersonLetterListsSerializer(serializers.Serializer):
    signed = serializers.URLField(help_text=ALL_LETTERS)
    received = serializers.URLField(help_text=ALL_LETTERS)
    mentioned_in = serializers.URLField(help_text=ALL_LETTERS)


class PersonDetailSerializer(PersonSerializer):
    letters = serializers.SerializerMethodField()
    letter_lists = serializers.SerializerMethodField()

    class Meta(PersonSerializer.Meta):
        fields = [*PersonSerializer.Meta.fields, "letters", "letter_lists"]

    @extend_schema_field(PersonLettersSerializer)
    def get_letters(self, obj):
        return PersonLettersSerializer(obj.public_letters, context=self.context).data

    @extend_schema_field(PersonLetterListsSerializer)
    def get_letter_lists(self, obj):
        return _letter_lists(
            self,
            obj.key,
            {
                "signed": ("person", "signatory"),
                "received": ("person", "addressee"),
                "mentioned_in": ("person", "mentioned"),
            },
        )


class OrganisationSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    other_names = serializers.ListField(
        source="other_names_list", child=serializers.CharField()
    )
    parent = serializers.SerializerMethodField()
    identifiers = IdentifierSerializer(many=True)
    letters_issued = serializers.IntegerField()
    letters_signed_for = serializers.IntegerField()
    letters_received = serializers.IntegerField()
    letters_mentioned_in = serializers.IntegerField()
    letters_total = serializers.IntegerField(
        help_text="Published letters in which it appears in any role, each letter "
        "once (not the sum of the counts above: one letter can name it in several)."
    )

    class Meta:
        model = Organisation
        fields = [
            "id",
            "key",
            "url",
            "name",
            "acronym",
            "other_names",
            "kind",
            "country",
            "parent",
            "identifiers",
            "letters_issued",
            "letters_signed_for",
            "letters_received",
            "letters_mentioned_in",
            "letters_total",
        ]

    def get_url(self, obj) -> str:
        return _url(self, "organisation-detail", pk=obj.pk)

    @extend_schema_field(OrganisationRefSerializer(allow_null=True))
    def get_parent(self, obj):
        if obj.parent_id is None or not obj.parent.is_public:
            return None
        return OrganisationRefSerializer(obj.parent, context=self.context).data


class OrganisationLettersSerializer(serializers.Serializer):
    issued = LetterRefSerializer(many=True, help_text=FIRST_LETTERS)
    signed_for = LetterRefSerializer(many=True, help_text=FIRST_LETTERS)
    received = ReceivedLetterSerializer(many=True, help_text=FIRST_LETTERS)
    mentioned_in = LetterRefSerializer(many=True, help_text=FIRST_LETTERS)


class OrganisationLetterListsSerializer(serializers.Serializer):
    issued = serializers.URLField(help_text=ALL_LETTERS)
    signed_for = serializers.URLField(help_text=ALL_LETTERS)
    received = serializers.URLField(help_text=ALL_LETTERS)
    mentioned_in = serializers.URLField(help_text=ALL_LETTERS)


class OrganisationDetailSerializer(OrganisationSerializer):
    letters = serializers.SerializerMethodField()
    letter_lists = serializers.SerializerMethodField()

    class Meta(OrganisationSerializer.Meta):
        fields = [*OrganisationSerializer.Meta.fields, "letters", "letter_lists"]

    @extend_schema_field(OrganisationLettersSerializer)
    def get_letters(self, obj):
        return OrganisationLettersSerializer(
            obj.public_letters, context=self.context
        ).data

    @extend_schema_field(OrganisationLetterListsSerializer)
    def get_letter_lists(self, obj):
        return _letter_lists(
            self,
            obj.key,
            {
                "issued": ("organisation", "issuer"),
                "signed_for": ("organisation", "signatory"),
                "received": ("organisation", "addressee"),
                "mentioned_in": ("organisation", "mentioned"),
            },
        )


class PlaceSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    letter_count = serializers.IntegerField()

    class Meta:
        model = Place
        fields = ["id", "key", "url", "name", "country", "wikidata", "letter_count"]

    def get_url(self, obj) -> str:
        return _url(self, "place-detail", pk=obj.pk)
