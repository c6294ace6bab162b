"""The one field specification of the data package. It drives, from the same objects:
the CSV columns and their values (build.py), the Table Schemas of datapackage.json
(build.py), the package README (readme.py) and the import back (load.py). Nothing about
the package's structure is kept anywhere else, so the descriptor cannot drift from the
data.

Only published letters, and the persons, organisations, places and offices that
published records involve, are exported. Curator notes, contact details and review
status never are: they have no field here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection
from django.db.models import CharField, F, Func
from django.db.models.functions import Collate
from django.db.models.sql.constants import MULTI

from datapackage.validation import TIMESTAMP_FORMAT
from letters import dates
from letters.models import (
    Addressee,
    ExternalIdentifier,
    Issuer,
    Letter,
    Membership,
    Mention,
    Organisation,
    Person,
    Place,
    Post,
    Signatory,
)
from letters.querysets import PUBLISHED
from letters.vocabularies import (
    AddresseeCertainty,
    AddresseeRole,
    DateCertainty,
    DatePrecision,
    Identification,
    IdentifierScheme,
    LetterKind,
    OrganisationKind,
)

KEY_PATTERN = r"^[a-z0-9]+(--?[a-z0-9]+)*$"
CHUNK = 2000

#: Package-level metadata (Data Package v2).
PACKAGE = {
    "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
    "name": "letters-archive",
    # A stable identifier for the dataset across versions (generated once).
    "id": "urn:uuid:6f1c9e52-3c1e-4d0c-9a51-8e2b7f0d4a17",
    "title": "Letters archive: advocacy letters on the Ablyazov extradition case "
    "(2015-2016)",
    "description": (
        "Published records of an archive of advocacy letters about the threatened "
        "extradition of the Kazakh opposition politician Mukhtar Ablyazov from France "
        "(2015-2016): letters of Members of the European Parliament and of NGOs to "
        "French ministers, and an NGO press release. Each letter comes with its full "
        "transcription, its signatories (the names exactly as written, OCR noise "
        "included, and the persons they identify, with the certainty of each "
        "identification), its addressees and copy-to recipients, issuing "
        "organisations and the persons and bodies it mentions; persons and "
        "organisations come with external identifiers and the offices they held."
    ),
    "keywords": [
        "letters",
        "advocacy",
        "European Parliament",
        "human rights",
        "extradition",
        "Kazakhstan",
        "France",
        "prosopography",
    ],
    "licenses": [
        {
            "name": "CC-BY-4.0",
            "path": "https://creativecommons.org/licenses/by/4.0/",
            "title": "Creative Commons Attribution 4.0",
        }
    ],
    "contributors": [
        {
            "title": "Letters archive curators",
            "roles": ["creator", "curator"],
        },
        {
            "title": "Letters archive developers",
            "roles": ["producer"],
        },
    ],
}

#: Bump by hand when the meaning of fields changes; the build checks structure itself.
SPEC_VERSION = "1"


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # Table Schema type: string, integer, date, datetime
    description: str
    title: str = ""
    required: bool = False
    unique: bool = False
    enum: tuple[str, ...] = ()
    pattern: str | None = None
    minimum: int | None = None

    def descriptor(self) -> dict:
        out: dict = {
            "name": self.name,
            "type": self.type,
            "title": self.title or self.name.replace("_", " ").capitalize(),
            "description": self.description,
        }
        if self.type == "datetime":
            out["format"] = TIMESTAMP_FORMAT
        constraints: dict = {}
        if self.required:
            constraints["required"] = True
        if self.unique:
            constraints["unique"] = True
        if self.enum:
            constraints["enum"] = list(self.enum)
        if self.pattern:
            constraints["pattern"] = self.pattern
        if self.minimum is not None:
            constraints["minimum"] = self.minimum
        if constraints:
            out["constraints"] = constraints
        return out


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str  # "" for a reference within the same resource
    reference: tuple[str, ...]

    def descriptor(self) -> dict:
        return {
            "fields": list(self.fields),
            "reference": {"resource": self.resource, "fields": list(self.reference)},
        }


@dataclass(frozen=True)
class Resource:
    name: str
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    rows: Callable[[Scope], Iterator[tuple]]
    foreign_keys: tuple[ForeignKey, ...] = ()

    @property
    def path(self) -> str:
        return f"data/{self.name}.csv"

    @property
    def header(self) -> list[str]:
        return [f.name for f in self.fields]

    def schema(self) -> dict:
        schema = {
            "$schema": "https://datapackage.org/profiles/2.0/tableschema.json",
            "fields": [f.descriptor() for f in self.fields],
            "primaryKey": list(self.primary_key),
            "missingValues": [""],
        }
        if self.foreign_keys:
            schema["foreignKeys"] = [fk.descriptor() for fk in self.foreign_keys]
        return schema


# --- value formatting: one textual form per type, so builds are byte-identical ------


def text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(TIMESTAMP_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def ordered(queryset, *names):
    """Order by text columns bytewise on every engine (C collation on PostgreSQL;
    SQLite compares bytes already), so both engines give the same files."""
    if connection.vendor == "postgresql":
        return queryset.order_by(*[Collate(F(n), "C") for n in names])
    return queryset.order_by(*names)


class UtcText(Func):
    """A datetime as the package writes it, 2016-03-01T09:30:00Z (UTC, whole seconds),
    formatted by the database: cheaper, at a million rows, than a datetime object
    per value made by the driver and turned back into text in Python."""

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores UTC as "YYYY-MM-DD HH:MM:SS[.ffffff]". The column appears
        # twice: fine for a column reference, which has no parameters.
        template = (
            "substr(%(expressions)s, 1, 10) || 'T' || "
            "substr(%(expressions)s, 12, 8) || 'Z'"
        )
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        template = (
            "to_char(%(expressions)s AT TIME ZONE 'UTC', "
            '\'YYYY-MM-DD"T"HH24:MI:SS"Z"\')'
        )
        return self.as_sql(compiler, connection, template=template, **extra)


def _cell_writer(kind: str) -> Callable | None:
    """How a column's database value becomes its CSV text, where csv.writer's own
    rendering (None as "", str() of anything else) would not give text()'s."""
    if kind == "DateField":
        return date.isoformat
    if kind in ("BooleanField", "NullBooleanField"):
        return lambda v: "" if v is None else str(bool(v))  # SQLite gives 0/1
    return None


def stream(queryset, *columns) -> Iterator[tuple]:
    """values_list rows as CSV-ready tuples, from a server-side cursor (memory stays
    flat) and without the ORM's per-value converters: at a million rows those, and
    one text() per cell, were three quarters of the build. Datetimes are formatted
    by the database (UtcText), dates and booleans rewritten here (to the text text()
    gives); every other value is written by csv.writer as it comes (None as empty,
    numbers by str())."""
    width = len(columns)
    probe = queryset.values_list(*columns).query.get_compiler(queryset.db)
    probe.setup_query()
    kinds = [e.output_field.get_internal_type() for e, _, _ in probe.select[:width]]
    selected = [
        UtcText(column) if kind == "DateTimeField" else column
        for column, kind in zip(columns, kinds, strict=True)
    ]
    writers = [
        (i, writer)
        for i, kind in enumerate(kinds)
        if (writer := _cell_writer(kind)) is not None
    ]
    query = queryset.values_list(*selected).query
    compiler = query.get_compiler(queryset.db)
    chunks = compiler.execute_sql(MULTI, chunked_fetch=True, chunk_size=CHUNK)
    try:
        for chunk in chunks:
            for row in chunk:
                if writers or len(row) != width:
                    row = list(row[:width])
                    for i, writer in writers:
                        if row[i] is not None:
                            row[i] = writer(row[i])
                    row = tuple(row)
                yield row
    finally:
        # The cursor, now, also when the consumer stops early (an empty result is
        # a plain iterator with nothing to close).
        getattr(chunks, "close", lambda: None)()


# --- the exported scope -----------------------------------------------------------


class Scope:
    """What the package contains: computed once per build, inside the build's
    snapshot transaction."""

    def __init__(self):
        self.letters = Letter.objects.published()
        self.persons = Person.objects.public()
        self.organisations = Organisation.objects.public()
        self.organisation_keys = set(self.organisations.values_list("key", flat=True))
        self.memberships = Membership.objects.published()
        self.places = Place.objects.public()
        self.posts = Post.objects.filter(pk__in=self.memberships.values("post"))


# --- rows of each resource ----------------------------------------------------------


def _letters(scope: Scope):
    return stream(
        ordered(scope.letters, "identifier"),
        "identifier", "title", "kind", "date", "date_as_written", "date_precision",
        "date_certainty", "date_earliest", "date_latest", "place__key", "language",
        "summary", "transcription", "source_file", "source_sha256", "updated_at",
    )  # fmt: skip


def _places(scope: Scope):
    return stream(
        ordered(scope.places, "key"), "key", "name", "country", "wikidata", "updated_at"
    )


def _persons(scope: Scope):
    return stream(
        ordered(scope.persons, "key"),
        "key", "display_name", "sort_name", "honorific", "country", "description",
        "updated_at",
    )  # fmt: skip


def _names(queryset):
    for key, other_names in queryset.values_list("key", "other_names").iterator(
        chunk_size=CHUNK
    ):
        seen = set()
        for line in other_names.splitlines():
            name = line.strip()
            if name and name not in seen:
                seen.add(name)
                yield (key, name)


def _person_names(scope: Scope):
    return _names(ordered(scope.persons, "key"))


def _organisations(scope: Scope):
    keys = scope.organisation_keys
    for row in (
        ordered(scope.organisations, "key")
        .values_list(
            "key", "name", "acronym", "kind", "country", "parent__key", "updated_at"
        )
        .iterator(chunk_size=CHUNK)
    ):
        row = list(row)
        if row[5] not in keys:
            row[5] = None  # the parent is not public: leave the link out
        yield tuple(text(v) for v in row)


def _organisation_names(scope: Scope):
    return _names(ordered(scope.organisations, "key"))


def _identifiers(scope: Scope):
    queryset = ExternalIdentifier.objects.filter(
        person__in=scope.persons.values("pk")
    ) | ExternalIdentifier.objects.filter(
        organisation__in=scope.organisations.values("pk")
    )
    for scheme, value, person, organisation in (
        ordered(queryset, "scheme", "value")
        .values_list("scheme", "value", "person__key", "organisation__key")
        .iterator(chunk_size=CHUNK)
    ):
        url = ExternalIdentifier(scheme=scheme, value=value).url
        yield tuple(text(v) for v in (scheme, value, person, organisation, url))


def _posts(scope: Scope):
    return stream(
        ordered(scope.posts, "key"),
        "key",
        "label",
        "role",
        "organisation__key",
        "updated_at",
    )


def _memberships(scope: Scope):
    for row in ordered(scope.memberships, "key").values_list(
        "key", "person__key", "organisation__key", "post__key", "role", "start",
        "end", "start_date", "end_date", "attested_by__identifier",
        "attested_by__status", "source_note", "updated_at",
    ).iterator(chunk_size=CHUNK):  # fmt: skip
        row = list(row)
        status = row.pop(10)
        if status != PUBLISHED:
            row[9] = None  # attested by a letter that is not public
        yield tuple(text(v) for v in row)


def _roles(model, scope: Scope, *columns):
    queryset = model.objects.filter(letter__status=PUBLISHED)
    return stream(queryset.order_by(*_role_order(model)), *columns)


def _role_order(model):
    letter = (
        Collate(F("letter__identifier"), "C")
        if connection.vendor == "postgresql"
        else "letter__identifier"
    )
    if model is Issuer:
        key = (
            Collate(F("organisation__key"), "C")
            if connection.vendor == "postgresql"
            else "organisation__key"
        )
        return [letter, key]
    return [letter, "position"]


def _signatories(scope: Scope):
    return _roles(
        Signatory, scope, "letter__identifier", "position", "name_as_written",
        "person__key", "certainty", "capacity", "organisation__key",
        "identification_note", "updated_at",
    )  # fmt: skip


def _addressees(scope: Scope):
    return _roles(
        Addressee, scope, "letter__identifier", "position", "role", "person__key",
        "organisation__key", "office_as_written", "certainty", "identification_note",
        "updated_at",
    )  # fmt: skip


def _issuers(scope: Scope):
    return _roles(
        Issuer, scope, "letter__identifier", "organisation__key", "updated_at"
    )


def _mentions(scope: Scope):
    """Mentions have no position in the model; their order of entry (id) within a
    letter gives one, which the import reproduces."""
    queryset = Mention.objects.filter(letter__status=PUBLISHED)
    letter = (
        Collate(F("letter__identifier"), "C")
        if connection.vendor == "postgresql"
        else "letter__identifier"
    )
    current, position = None, 0
    for row in stream(
        queryset.order_by(letter, "id"),
        "letter__identifier", "person__key", "organisation__key", "name_as_written",
        "certainty", "identification_note", "updated_at",
    ):  # fmt: skip
        position = position + 1 if row[0] == current else 1
        current = row[0]
        yield (row[0], position, *row[1:])


# --- the specification --------------------------------------------------------------

UPDATED = Field(
    "updated",
    "datetime",
    "When the record last changed (UTC).",
    title="Last changed",
    required=True,
)
LETTER_FK = ForeignKey(("letter",), "letters", ("identifier",))
PERSON_FK = ForeignKey(("person",), "persons", ("key",))
ORGANISATION_FK = ForeignKey(("organisation",), "organisations", ("key",))


def _key(name: str, what: str, note: str = "", **kwargs) -> Field:
    return Field(
        name,
        "string",
        f"Stable key of the {what}.{note}",
        pattern=KEY_PATTERN,
        **kwargs,
    )


# Persons and organisations share one key space (letters.models.PartyKey); the
# import checks it, since a table schema cannot say it.
ONE_KEY_SPACE = " No {other} has the same key."


def _ref(name: str, what: str, **kwargs) -> Field:
    return Field(
        name,
        "string",
        f"Key of the {what} ({what}s resource).",
        pattern=KEY_PATTERN,
        **kwargs,
    )


RESOURCES: tuple[Resource, ...] = (
    Resource(
        "letters",
        "Letters",
        "One row per published letter, press release or statement, with its full "
        "transcription exactly as in the source document.",
        (
            Field(
                "identifier",
                "string",
                "Permanent public identifier of the letter.",
                required=True,
                unique=True,
                pattern=KEY_PATTERN,
            ),
            Field(
                "title",
                "string",
                "Title (the document's own, or a descriptive one).",
                required=True,
            ),
            Field(
                "kind",
                "string",
                "Kind of document.",
                required=True,
                enum=tuple(LetterKind.values),
            ),
            Field(
                "date",
                "string",
                "Normalised date, as precise as known: YYYY, "
                "YYYY-MM, YYYY-MM-DD, or an interval A/B (EDTF level 0).",
                pattern=dates.PATTERN,
            ),
            Field(
                "date_as_written", "string", "The date exactly as the source gives it."
            ),
            Field(
                "date_precision",
                "string",
                "Precision of the normalised date.",
                required=True,
                enum=tuple(DatePrecision.values),
            ),
            Field(
                "date_certainty",
                "string",
                "Certainty of the normalised date.",
                required=True,
                enum=tuple(DateCertainty.values),
            ),
            Field("date_earliest", "date", "Earliest day the date allows."),
            Field("date_latest", "date", "Latest day the date allows."),
            _ref("place", "place"),
            Field(
                "language",
                "string",
                "Language of the text (ISO 639-1).",
                required=True,
                pattern=r"^[a-z]{2}$",
            ),
            Field("summary", "string", "Short abstract written by the curators."),
            Field(
                "transcription",
                "string",
                "Full text exactly as in the source document (OCR noise included).",
                required=True,
            ),
            Field("source_file", "string", "File name of the source document."),
            Field(
                "source_sha256",
                "string",
                "SHA-256 of the source document's bytes.",
                pattern=r"^[0-9a-f]{64}$",
            ),
            UPDATED,
        ),
        ("identifier",),
        _letters,
        (ForeignKey(("place",), "places", ("key",)),),
    ),
    Resource(
        "places",
        "Places",
        "Places where published letters were written.",
        (
            _key("key", "place", required=True, unique=True),
            Field("name", "string", "English name.", required=True),
            Field(
                "country", "string", "ISO 3166-1 alpha-2 code.", pattern=r"^[A-Z]{2}$"
            ),
            Field("wikidata", "string", "Wikidata QID.", pattern=r"^Q[1-9][0-9]*$"),
            UPDATED,
        ),
        ("key",),
        _places,
    ),
    Resource(
        "persons",
        "Persons",
        "Persons who sign, receive or are mentioned in a published letter, or hold a "
        "published office.",
        (
            _key(
                "key",
                "person",
                ONE_KEY_SPACE.format(other="organisation"),
                required=True,
                unique=True,
            ),
            Field(
                "display_name", "string", "Name as the archive shows it.", required=True
            ),
            Field("sort_name", "string", "Surname first, for sorting.", required=True),
            Field("honorific", "string", "Mr, Ms… as the person is addressed."),
            Field(
                "country",
                "string",
                "ISO 3166-1 alpha-2 code of the country the "
                "person is chiefly associated with.",
                pattern=r"^[A-Z]{2}$",
            ),
            Field("description", "string", "Who this is, in one line."),
            UPDATED,
        ),
        ("key",),
        _persons,
    ),
    Resource(
        "person_names",
        "Other names of persons",
        "Other names and spellings of each person (transliterations, forms found in "
        "sources).",
        (
            _ref("person", "person", required=True),
            Field("name", "string", "Another name or spelling.", required=True),
        ),
        ("person", "name"),
        _person_names,
        (PERSON_FK,),
    ),
    Resource(
        "organisations",
        "Organisations",
        "Organisations that published records involve, and their parent bodies.",
        (
            _key(
                "key",
                "organisation",
                ONE_KEY_SPACE.format(other="person"),
                required=True,
                unique=True,
            ),
            Field("name", "string", "Full official name.", required=True),
            Field("acronym", "string", "Acronym, e.g. S&D."),
            Field(
                "kind",
                "string",
                "Kind of organisation.",
                required=True,
                enum=tuple(OrganisationKind.values),
            ),
            Field(
                "country", "string", "ISO 3166-1 alpha-2 code.", pattern=r"^[A-Z]{2}$"
            ),
            Field(
                "parent",
                "string",
                "Key of the body this one belongs to.",
                pattern=KEY_PATTERN,
            ),
            UPDATED,
        ),
        ("key",),
        _organisations,
        (ForeignKey(("parent",), "", ("key",)),),
    ),
    Resource(
        "organisation_names",
        "Other names of organisations",
        "Other names and translations of each organisation.",
        (
            _ref("organisation", "organisation", required=True),
            Field("name", "string", "Another name.", required=True),
        ),
        ("organisation", "name"),
        _organisation_names,
        (ORGANISATION_FK,),
    ),
    Resource(
        "identifiers",
        "External identifiers",
        "Identifiers of persons and organisations in other authority files.",
        (
            Field(
                "scheme",
                "string",
                "Authority file.",
                required=True,
                enum=tuple(IdentifierScheme.values),
            ),
            Field("value", "string", "The identifier in that scheme.", required=True),
            _ref("person", "person"),
            _ref("organisation", "organisation"),
            Field(
                "url",
                "string",
                "Web address of the record in that scheme.",
                required=True,
            ),
        ),
        ("scheme", "value"),
        _identifiers,
        (PERSON_FK, ORGANISATION_FK),
    ),
    Resource(
        "posts",
        "Posts",
        "Positions that exist independently of who holds them (Popolo Post).",
        (
            _key("key", "post", required=True, unique=True),
            Field("label", "string", "e.g. Prime Minister of France.", required=True),
            Field("role", "string", "e.g. Prime Minister.", required=True),
            _ref("organisation", "organisation", required=True),
            UPDATED,
        ),
        ("key",),
        _posts,
        (ORGANISATION_FK,),
    ),
    Resource(
        "memberships",
        "Offices and memberships",
        "Who held which post, or belonged to which body, from when to when (Popolo "
        "Membership).",
        (
            _key("key", "membership", required=True, unique=True),
            _ref("person", "person", required=True),
            _ref("organisation", "organisation", required=True),
            _ref("post", "post"),
            Field(
                "role", "string", "e.g. Member, Vice-Chair, Minister.", required=True
            ),
            Field(
                "start",
                "string",
                "Start, as a partial date; empty if unknown.",
                pattern=dates.PATTERN,
            ),
            Field(
                "end",
                "string",
                "End, as a partial date; empty if ongoing or unknown.",
                pattern=dates.PATTERN,
            ),
            Field("start_date", "date", "Earliest day of the start."),
            Field("end_date", "date", "Latest day of the end."),
            Field(
                "attested_by",
                "string",
                "Identifier of a letter that attests it.",
                pattern=KEY_PATTERN,
            ),
            Field("source_note", "string", "Where the dates come from."),
            UPDATED,
        ),
        ("key",),
        _memberships,
        (
            PERSON_FK,
            ORGANISATION_FK,
            ForeignKey(("post",), "posts", ("key",)),
            ForeignKey(("attested_by",), "letters", ("identifier",)),
        ),
    ),
    Resource(
        "signatories",
        "Signatories",
        "Signatures of each letter in signature order: the name exactly as written "
        "(OCR noise included) and the person it identifies, with the certainty of the "
        "identification. An unreadable signature is kept as unidentified.",
        (
            _ref("letter", "letter", required=True),
            Field(
                "position",
                "integer",
                "Order in the signature block, from 1.",
                required=True,
                minimum=1,
            ),
            Field(
                "name_as_written",
                "string",
                "The signature line exactly as in the "
                "source (tabs separate OCR columns).",
            ),
            _ref("person", "person"),
            Field(
                "certainty",
                "string",
                "Certainty of the identification.",
                required=True,
                enum=tuple(Identification.values),
            ),
            Field("capacity", "string", "Capacity in which they signed."),
            _ref("organisation", "organisation"),
            Field("note", "string", "How the signature was read and identified."),
            UPDATED,
        ),
        ("letter", "position"),
        _signatories,
        (LETTER_FK, PERSON_FK, ORGANISATION_FK),
    ),
    Resource(
        "addressees",
        "Addressees",
        "Recipients of each letter, `to` or `cc` (copy-to), with the office as "
        "written.",
        (
            _ref("letter", "letter", required=True),
            Field(
                "position",
                "integer",
                "Order in the letter, from 1.",
                required=True,
                minimum=1,
            ),
            Field(
                "role",
                "string",
                "to or cc.",
                required=True,
                enum=tuple(AddresseeRole.values),
            ),
            _ref("person", "person"),
            _ref("organisation", "organisation"),
            Field("office_as_written", "string", "The office exactly as written."),
            Field(
                "certainty",
                "string",
                "inferred when the source names only the office.",
                required=True,
                enum=tuple(AddresseeCertainty.values),
            ),
            Field("note", "string", "How the addressee was identified."),
            UPDATED,
        ),
        ("letter", "position"),
        _addressees,
        (LETTER_FK, PERSON_FK, ORGANISATION_FK),
    ),
    Resource(
        "issuing_organisations",
        "Issuing organisations",
        "The organisations that issued each document.",
        (
            _ref("letter", "letter", required=True),
            _ref("organisation", "organisation", required=True),
            UPDATED,
        ),
        ("letter", "organisation"),
        _issuers,
        (LETTER_FK, ORGANISATION_FK),
    ),
    Resource(
        "mentions",
        "Mentions",
        "Persons and organisations each letter names.",
        (
            _ref("letter", "letter", required=True),
            Field(
                "position",
                "integer",
                "Order of entry within the letter, from 1.",
                required=True,
                minimum=1,
            ),
            _ref("person", "person"),
            _ref("organisation", "organisation"),
            Field("name_as_written", "string", "The form in which the text names it."),
            Field(
                "certainty",
                "string",
                "Certainty of the identification.",
                required=True,
                enum=("certain", "probable"),
            ),
            Field("note", "string", "How the mention was identified."),
            UPDATED,
        ),
        ("letter", "position"),
        _mentions,
        (LETTER_FK, PERSON_FK, ORGANISATION_FK),
    ),
)

BY_NAME = {resource.name: resource for resource in RESOURCES}
