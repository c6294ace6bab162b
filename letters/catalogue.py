"""The seed catalogue: seeds/catalogue.yaml and its documents -> plain records.

This module reads files and nothing else: it never touches the database. It checks
everything that can be checked without the database, so that a bad catalogue is refused
before anything is written: unknown or missing fields, values outside the vocabularies,
malformed dates, references to keys that do not exist, a document whose sha256 differs
from the catalogue's, and any "as written" string that does not occur in its document.
Every error names the file, the entry and the field.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from letters import dates
from letters.vocabularies import (
    IDENTIFIER_PATTERNS,
    LANGUAGES,
    AddresseeCertainty,
    AddresseeRole,
    DateCertainty,
    Identification,
    IdentifierScheme,
    LetterKind,
    OrganisationKind,
    ReviewStatus,
)

FORMAT = "letters-archive-catalogue/1"
KEY_RE = re.compile(r"^[a-z0-9]+(--?[a-z0-9]+)*$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
LANGUAGE_CODES = {code for code, _ in LANGUAGES}


class CatalogueError(ValueError):
    """The catalogue or a document is malformed; the message says where."""


@dataclass(frozen=True)
class PlaceRecord:
    origin: str
    key: str
    name: str
    country: str = ""
    wikidata: str = ""


@dataclass(frozen=True)
class OrganisationRecord:
    origin: str
    key: str
    name: str
    kind: str
    acronym: str = ""
    other_names: tuple[str, ...] = ()
    country: str = ""
    parent: str = ""
    email: str = ""
    telephone: str = ""
    identifiers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PersonRecord:
    origin: str
    key: str
    display_name: str
    sort_name: str
    other_names: tuple[str, ...] = ()
    honorific: str = ""
    country: str = ""
    description: str = ""
    email: str = ""
    telephone: str = ""
    identifiers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PostRecord:
    origin: str
    key: str
    label: str
    role: str
    organisation: str


@dataclass(frozen=True)
class MembershipRecord:
    origin: str
    key: str
    person: str
    role: str
    organisation: str = ""
    post: str = ""
    start: str = ""
    end: str = ""
    attested_by: str = ""
    source_note: str = ""


@dataclass(frozen=True)
class SignatoryRecord:
    position: int
    name_as_written: str
    certainty: str
    person: str = ""
    capacity: str = ""
    organisation: str = ""
    note: str = ""


@dataclass(frozen=True)
class AddresseeRecord:
    position: int
    role: str
    person: str = ""
    organisation: str = ""
    office_as_written: str = ""
    certainty: str = AddresseeCertainty.CERTAIN.value
    note: str = ""


@dataclass(frozen=True)
class MentionRecord:
    person: str = ""
    organisation: str = ""
    name_as_written: str = ""
    certainty: str = Identification.CERTAIN.value
    note: str = ""


@dataclass(frozen=True)
class LetterRecord:
    origin: str
    identifier: str
    source: str
    sha256: str
    transcription: str
    kind: str
    title: str
    language: str
    status: str = ReviewStatus.PUBLISHED.value
    date: str = ""
    date_as_written: str = ""
    date_certainty: str = DateCertainty.CERTAIN.value
    place: str = ""
    summary: str = ""
    notes: str = ""
    addressees: tuple[AddresseeRecord, ...] = ()
    signatories: tuple[SignatoryRecord, ...] = ()
    issuers: tuple[str, ...] = ()
    mentions: tuple[MentionRecord, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    path: Path
    places: tuple[PlaceRecord, ...] = ()
    organisations: tuple[OrganisationRecord, ...] = ()
    persons: tuple[PersonRecord, ...] = ()
    posts: tuple[PostRecord, ...] = ()
    memberships: tuple[MembershipRecord, ...] = ()
    letters: tuple[LetterRecord, ...] = ()
    documents: dict[str, str] = field(default_factory=dict)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _squash(text: str) -> str:
    return " ".join(text.split())


class _Entry:
    """One mapping of the catalogue, with field access that reports precisely."""

    def __init__(self, file: str, where: str, data: Any, allowed: Iterable[str]):
        self.where = f"{file}: {where}"
        if not isinstance(data, dict):
            raise CatalogueError(f"{self.where}: expected a mapping of fields")
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise CatalogueError(
                f"{self.where}: unknown field {unknown[0]!r} "
                f"(allowed: {', '.join(sorted(allowed))})"
            )
        self.data = data

    def fail(self, name: str, message: str) -> CatalogueError:
        return CatalogueError(f"{self.where}, field '{name}': {message}")

    def text(self, name: str, *, required: bool = False, default: str = "") -> str:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                raise self.fail(name, "is required")
            return default
        if not isinstance(value, str):
            raise self.fail(name, f"must be text, not {type(value).__name__}")
        return value.strip() if "\t" not in value else value

    def choice(self, name: str, choices, *, default: str | None = None) -> str:
        value = self.text(name, required=default is None, default=default or "")
        if value not in set(choices):
            raise self.fail(
                name, f"{value!r} is not one of: {', '.join(sorted(choices))}"
            )
        return value

    def key(self, name: str, *, required: bool = True) -> str:
        value = self.text(name, required=required)
        if value and not KEY_RE.match(value):
            raise self.fail(name, f"{value!r} is not a key (lower-case-with-hyphens)")
        return value

    def country(self, name: str = "country") -> str:
        value = self.text(name)
        if value and not COUNTRY_RE.match(value):
            raise self.fail(name, f"{value!r} is not a two-letter ISO country code")
        return value

    def partial_date(self, name: str) -> str:
        value = self.data.get(name)
        if value is None or value == "":
            return ""
        if not isinstance(value, str):
            raise self.fail(name, 'must be quoted text such as "2015-05-18"')
        try:
            return dates.parse(value).text
        except dates.PartialDateError as exc:
            raise self.fail(name, str(exc)) from exc

    def names(self, name: str) -> tuple[str, ...]:
        value = self.data.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(name, "must be a list of text")
        return tuple(v.strip() for v in value if v.strip())

    def identifiers(self) -> tuple[tuple[str, str], ...]:
        value = self.data.get("identifiers") or {}
        if not isinstance(value, dict):
            raise self.fail("identifiers", "must map a scheme to an identifier")
        out = []
        for scheme, ident in sorted(value.items()):
            if scheme not in IdentifierScheme.values:
                raise self.fail(
                    "identifiers",
                    f"unknown scheme {scheme!r} "
                    f"(known: {', '.join(IdentifierScheme.values)})",
                )
            if not isinstance(ident, str) or not re.match(
                IDENTIFIER_PATTERNS[scheme], ident
            ):
                raise self.fail("identifiers", f"{ident!r} is not a valid {scheme}")
            out.append((scheme, ident))
        return tuple(out)

    def items(self, name: str) -> list[Any]:
        value = self.data.get(name) or []
        if not isinstance(value, list):
            raise self.fail(name, "must be a list")
        return value


def read(path: Path | str) -> Catalogue:
    """Read and check the catalogue and its documents; raise CatalogueError."""
    path = Path(path)
    file = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogueError(f"{file}: no such catalogue file") from exc
    except UnicodeDecodeError as exc:
        raise CatalogueError(f"{file}: not UTF-8 text ({exc})") from exc
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{file}: not valid YAML: {exc}") from exc
    top = _Entry(
        file,
        "top level",
        raw,
        [
            "format",
            "places",
            "organisations",
            "persons",
            "posts",
            "memberships",
            "letters",
        ],
    )
    if raw.get("format") != FORMAT:
        raise top.fail("format", f"must be {FORMAT!r}")

    places = _read_places(file, top)
    organisations = _read_organisations(file, top)
    persons = _read_persons(file, top)
    place_keys = {p.key for p in places}
    org_keys = {o.key for o in organisations}
    person_keys = {p.key for p in persons}
    _one_key_space(file, organisations, persons)
    posts = _read_posts(file, top, org_keys)
    letters, documents = _read_letters(
        path, top, place_keys=place_keys, org_keys=org_keys, person_keys=person_keys
    )
    memberships = _read_memberships(
        file,
        top,
        person_keys=person_keys,
        org_keys=org_keys,
        posts={p.key: p for p in posts},
        letter_ids={letter.identifier for letter in letters},
    )
    return Catalogue(
        path=path,
        places=places,
        organisations=organisations,
        persons=persons,
        posts=posts,
        memberships=memberships,
        letters=letters,
        documents=documents,
    )


def _unique(file: str, section: str, entries, attr: str = "key") -> None:
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        value = getattr(entry, attr)
        if value in seen:
            raise CatalogueError(
                f"{file}: {section}[{index}], field '{attr}': {value!r} is already "
                f"used by {section}[{seen[value]}]"
            )
        seen[value] = index


def _one_key_space(file: str, organisations, persons) -> None:
    """Persons and organisations share one key space (letters.models.PartyKey)."""
    org_index = {org.key: index for index, org in enumerate(organisations)}
    for index, person in enumerate(persons):
        if person.key in org_index:
            raise CatalogueError(
                f"{file}: persons[{index}], field 'key': {person.key!r} is already "
                f"the key of organisations[{org_index[person.key]}]; persons and "
                "organisations share one key space"
            )


def _read_places(file: str, top: _Entry) -> tuple[PlaceRecord, ...]:
    out = []
    for i, data in enumerate(top.items("places")):
        e = _Entry(file, f"places[{i}]", data, ["key", "name", "country", "wikidata"])
        out.append(
            PlaceRecord(
                origin=e.where,
                key=e.key("key"),
                name=e.text("name", required=True),
                country=e.country(),
                wikidata=e.text("wikidata"),
            )
        )
    _unique(file, "places", out)
    return tuple(out)


def _read_organisations(file: str, top: _Entry) -> tuple[OrganisationRecord, ...]:
    out = []
    fields = [
        "key",
        "name",
        "acronym",
        "other_names",
        "kind",
        "country",
        "parent",
        "email",
        "telephone",
        "identifiers",
    ]
    for i, data in enumerate(top.items("organisations")):
        e = _Entry(file, f"organisations[{i}]", data, fields)
        out.append(
            OrganisationRecord(
                origin=e.where,
                key=e.key("key"),
                name=e.text("name", required=True),
                acronym=e.text("acronym"),
                other_names=e.names("other_names"),
                kind=e.choice("kind", OrganisationKind.values),
                country=e.country(),
                parent=e.key("parent", required=False),
                email=e.text("email"),
                telephone=e.text("telephone"),
                identifiers=e.identifiers(),
            )
        )
    _unique(file, "organisations", out)
    keys = {o.key: i for i, o in enumerate(out)}
    for i, org in enumerate(out):
        if org.parent and org.parent not in keys:
            raise CatalogueError(
                f"{file}: organisations[{i}] ({org.key}), field 'parent': no "
                f"organisation has the key {org.parent!r}"
            )
        if org.parent and keys[org.parent] > i:
            raise CatalogueError(
                f"{file}: organisations[{i}] ({org.key}), field 'parent': list "
                f"{org.parent!r} before the organisations that belong to it"
            )
    return tuple(out)


def _read_persons(file: str, top: _Entry) -> tuple[PersonRecord, ...]:
    out = []
    fields = [
        "key",
        "display_name",
        "sort_name",
        "other_names",
        "honorific",
        "country",
        "description",
        "email",
        "telephone",
        "identifiers",
    ]
    for i, data in enumerate(top.items("persons")):
        e = _Entry(file, f"persons[{i}]", data, fields)
        out.append(
            PersonRecord(
                origin=e.where,
                key=e.key("key"),
                display_name=e.text("display_name", required=True),
                sort_name=e.text("sort_name", required=True),
                other_names=e.names("other_names"),
                honorific=e.text("honorific"),
                country=e.country(),
                description=e.text("description"),
                email=e.text("email"),
                telephone=e.text("telephone"),
                identifiers=e.identifiers(),
            )
        )
    _unique(file, "persons", out)
    return tuple(out)


def _read_posts(file: str, top: _Entry, org_keys: set[str]) -> tuple[PostRecord, ...]:
    out = []
    for i, data in enumerate(top.items("posts")):
        e = _Entry(file, f"posts[{i}]", data, ["key", "label", "role", "organisation"])
        record = PostRecord(
            origin=e.where,
            key=e.key("key"),
            label=e.text("label", required=True),
            role=e.text("role", required=True),
            organisation=e.key("organisation"),
        )
        if record.organisation not in org_keys:
            raise e.fail(
                "organisation", f"no organisation has the key {record.organisation!r}"
            )
        out.append(record)
    _unique(file, "posts", out)
    return tuple(out)


def _read_memberships(
    file: str, top: _Entry, *, person_keys, org_keys, posts, letter_ids
) -> tuple[MembershipRecord, ...]:
    out = []
    fields = [
        "key",
        "person",
        "organisation",
        "post",
        "role",
        "start",
        "end",
        "attested_by",
        "source_note",
    ]
    for i, data in enumerate(top.items("memberships")):
        e = _Entry(file, f"memberships[{i}]", data, fields)
        post = e.key("post", required=False)
        organisation = e.key("organisation", required=False)
        if post:
            if post not in posts:
                raise e.fail("post", f"no post has the key {post!r}")
            if organisation and organisation != posts[post].organisation:
                raise e.fail("organisation", "differs from the post's organisation")
            organisation = posts[post].organisation
        if not organisation:
            raise e.fail("organisation", "is required when no post is given")
        if organisation not in org_keys:
            raise e.fail(
                "organisation", f"no organisation has the key {organisation!r}"
            )
        person = e.key("person")
        if person not in person_keys:
            raise e.fail("person", f"no person has the key {person!r}")
        start, end = e.partial_date("start"), e.partial_date("end")
        if start and end and dates.parse(end).latest < dates.parse(start).earliest:
            raise e.fail("end", f"{end} is before the start {start}")
        attested_by = e.text("attested_by")
        if attested_by and attested_by not in letter_ids:
            raise e.fail("attested_by", f"no letter has the identifier {attested_by!r}")
        out.append(
            MembershipRecord(
                origin=e.where,
                key=e.key("key"),
                person=person,
                organisation=organisation,
                post=post,
                role=e.text("role", required=True),
                start=start,
                end=end,
                attested_by=attested_by,
                source_note=e.text("source_note"),
            )
        )
    _unique(file, "memberships", out)
    return tuple(out)


def _read_letters(path: Path, top: _Entry, *, place_keys, org_keys, person_keys):
    file = str(path)
    out, documents = [], {}
    fields = [
        "identifier",
        "source",
        "sha256",
        "kind",
        "title",
        "status",
        "date",
        "date_as_written",
        "date_certainty",
        "place",
        "language",
        "summary",
        "notes",
        "addressees",
        "signatories",
        "issuers",
        "mentions",
    ]
    for i, data in enumerate(top.items("letters")):
        e = _Entry(file, f"letters[{i}]", data, fields)
        identifier = e.key("identifier")
        e.where = f"{e.where} ({identifier})"
        source = e.text("source", required=True)
        if Path(source).name != source:
            raise e.fail("source", "must be a file name in the seeds folder, no path")
        document = path.parent / source
        if not document.is_file():
            raise e.fail("source", f"the document {document} does not exist")
        expected = e.text("sha256", required=True)
        actual = sha256_of(document)
        if actual != expected:
            raise e.fail(
                "sha256",
                f"the document {document} has changed: its sha256 is {actual}, "
                f"the catalogue says {expected}",
            )
        try:
            transcription = document.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise e.fail("source", f"{document} is not UTF-8 ({exc})") from exc
        squashed = _squash(transcription)

        def written(
            entry: _Entry, name: str, value: str, squashed=squashed, source=source
        ) -> str:
            if value and _squash(value) not in squashed:
                raise entry.fail(name, f"{value!r} does not occur in {source}")
            return value

        place = e.key("place", required=False)
        if place and place not in place_keys:
            raise e.fail("place", f"no place has the key {place!r}")
        language = e.text("language", required=True)
        if language not in LANGUAGE_CODES:
            raise e.fail("language", f"{language!r} is not an ISO 639-1 code")
        record = LetterRecord(
            origin=e.where,
            identifier=identifier,
            source=source,
            sha256=expected,
            transcription=transcription,
            kind=e.choice("kind", LetterKind.values),
            title=e.text("title", required=True),
            status=e.choice("status", ReviewStatus.values, default="published"),
            date=e.partial_date("date"),
            date_as_written=written(e, "date_as_written", e.text("date_as_written")),
            date_certainty=e.choice(
                "date_certainty", DateCertainty.values, default="certain"
            ),
            place=place,
            language=language,
            summary=_squash(e.text("summary")),
            notes=_squash(e.text("notes")),
            addressees=tuple(
                _read_addressee(file, e, n, item, written, org_keys, person_keys)
                for n, item in enumerate(e.items("addressees"), start=1)
            ),
            signatories=tuple(
                _read_signatory(file, e, n, item, written, org_keys, person_keys)
                for n, item in enumerate(e.items("signatories"), start=1)
            ),
            issuers=tuple(_read_issuers(e, org_keys)),
            mentions=tuple(
                _read_mention(file, e, n, item, written, org_keys, person_keys)
                for n, item in enumerate(e.items("mentions"))
            ),
        )
        _unique_mentions(e, record.mentions)
        out.append(record)
        documents[source] = expected
    _unique(file, "letters", out, "identifier")
    _unique(file, "letters", out, "source")
    return tuple(out), documents


def _ref(entry: _Entry, name: str, keys: set[str], what: str) -> str:
    value = entry.key(name, required=False)
    if value and value not in keys:
        raise entry.fail(name, f"no {what} has the key {value!r}")
    return value


def _read_signatory(file, letter, n, data, written, org_keys, person_keys):
    e = _Entry(
        file,
        f"{letter.where.split(': ', 1)[1]}, signatories[{n - 1}]",
        data,
        ["name_as_written", "person", "certainty", "capacity", "organisation", "note"],
    )
    person = _ref(e, "person", person_keys, "person")
    certainty = e.choice("certainty", Identification.values, default="certain")
    if certainty == "unidentified" and person:
        raise e.fail("person", "an unidentified signature names no person")
    if certainty != "unidentified" and not person:
        raise e.fail("person", "is required unless certainty is 'unidentified'")
    name = e.text("name_as_written", required=not person)
    return SignatoryRecord(
        position=n,
        name_as_written=written(e, "name_as_written", name),
        person=person,
        certainty=certainty,
        capacity=e.text("capacity"),
        organisation=_ref(e, "organisation", org_keys, "organisation"),
        note=e.text("note"),
    )


def _read_addressee(file, letter, n, data, written, org_keys, person_keys):
    e = _Entry(
        file,
        f"{letter.where.split(': ', 1)[1]}, addressees[{n - 1}]",
        data,
        ["role", "person", "organisation", "office_as_written", "certainty", "note"],
    )
    record = AddresseeRecord(
        position=n,
        role=e.choice("role", AddresseeRole.values),
        person=_ref(e, "person", person_keys, "person"),
        organisation=_ref(e, "organisation", org_keys, "organisation"),
        office_as_written=written(e, "office_as_written", e.text("office_as_written")),
        certainty=e.choice("certainty", AddresseeCertainty.values, default="certain"),
        note=e.text("note"),
    )
    if not record.person and not record.organisation:
        raise e.fail("person", "an addressee names a person, an organisation or both")
    return record


def _read_issuers(letter: _Entry, org_keys: set[str]):
    issuers = letter.names("issuers")
    for key in issuers:
        if key not in org_keys:
            raise letter.fail("issuers", f"no organisation has the key {key!r}")
    if len(set(issuers)) != len(issuers):
        raise letter.fail("issuers", "lists an organisation twice")
    return issuers


def _read_mention(file, letter, n, data, written, org_keys, person_keys):
    e = _Entry(
        file,
        f"{letter.where.split(': ', 1)[1]}, mentions[{n}]",
        data,
        ["person", "organisation", "name_as_written", "certainty", "note"],
    )
    record = MentionRecord(
        person=_ref(e, "person", person_keys, "person"),
        organisation=_ref(e, "organisation", org_keys, "organisation"),
        name_as_written=written(e, "name_as_written", e.text("name_as_written")),
        certainty=e.choice("certainty", ["certain", "probable"], default="certain"),
        note=e.text("note"),
    )
    if bool(record.person) == bool(record.organisation):
        raise e.fail("person", "a mention names one person or one organisation")
    return record


def _unique_mentions(letter: _Entry, mentions) -> None:
    seen = set()
    for mention in mentions:
        ref = (
            ("person", mention.person)
            if mention.person
            else ("organisation", mention.organisation)
        )
        if ref in seen:
            raise letter.fail("mentions", f"{ref[0]} {ref[1]!r} is mentioned twice")
        seen.add(ref)
