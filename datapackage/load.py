"""Import a data package (a folder or its zip) into an empty archive.

Nothing is kept unless the package is ours and valid: its resources and fields must be
the ones fields.py specifies (checked first), and frictionless must find it valid
(types, constraints, foreign keys, bytes and hashes). The records are created in one
transaction, committed only once frictionless's verdict is in and empty; a refusal or
any failure leaves the database as it was. A large package is validated in worker
processes while the rows are loaded (at 100k letters each takes about as long as the
other); a small one is validated before the load starts. Timestamps are restored from
the package, so export -> import -> export gives identical files.
"""

from __future__ import annotations

import contextlib
import csv
import json
import operator
import shutil
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from django.db import connection, transaction

from datapackage import build, validation
from datapackage.fields import RESOURCES
from letters import bulk, footprint, models, search
from letters.vocabularies import ReviewStatus

BATCH = 1000
MAX_UNZIPPED = 4 * 1024**3


class ImportRefused(Exception):
    """The package cannot be imported; nothing was written."""


@contextlib.contextmanager
def opened(path: Path) -> Iterator[Path]:
    """The package folder: `path` itself, or a zip extracted safely to a temporary
    folder."""
    path = Path(path)
    if path.is_dir():
        yield _descriptor_folder(path)
        return
    if not path.is_file():
        raise ImportRefused(f"{path}: no such folder or zip file")
    if not zipfile.is_zipfile(path):
        raise ImportRefused(f"{path}: not a zip file nor a folder")
    folder = Path(tempfile.mkdtemp(prefix="import-"))
    try:
        with zipfile.ZipFile(path) as archive:
            total = 0
            for info in archive.infolist():
                name = Path(info.filename)
                if name.is_absolute() or ".." in name.parts:
                    raise ImportRefused(f"{path}: unsafe member {info.filename!r}")
                total += info.file_size
                if total > MAX_UNZIPPED:
                    raise ImportRefused(f"{path}: unpacks to more than 4 GiB")
            archive.extractall(folder)
        yield _descriptor_folder(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _descriptor_folder(folder: Path) -> Path:
    if (folder / build.DESCRIPTOR).is_file():
        return folder
    found = sorted(folder.glob(f"*/{build.DESCRIPTOR}"))
    if len(found) == 1:
        return found[0].parent
    raise ImportRefused(f"{folder}: no {build.DESCRIPTOR} found")


def check_structure(folder: Path) -> dict:
    """Refuse a package that is not ours (resources, paths, fields, files, declared
    bytes and hashes); return its descriptor. Frictionless checks the content."""
    try:
        descriptor = json.loads((folder / build.DESCRIPTOR).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ImportRefused(f"{build.DESCRIPTOR}: not readable JSON ({exc})") from exc
    if not isinstance(descriptor, dict) or not isinstance(
        descriptor.get("resources"), list
    ):
        raise ImportRefused(f"{build.DESCRIPTOR}: no list of resources")
    found = {r.get("name"): r for r in descriptor["resources"] if isinstance(r, dict)}
    for resource in RESOURCES:
        given = found.get(resource.name)
        if given is None:
            raise ImportRefused(f"resource {resource.name!r} is missing")
        if given.get("path") != resource.path:
            raise ImportRefused(
                f"resource {resource.name!r}: path must be {resource.path!r}"
            )
        names = [f.get("name") for f in given.get("schema", {}).get("fields", [])]
        if names != resource.header:
            raise ImportRefused(
                f"resource {resource.name!r}: fields are {names}, expected "
                f"{resource.header}"
            )
        if not (folder / resource.path).is_file():
            raise ImportRefused(
                f"resource {resource.name!r}: file {resource.path} is missing"
            )
    extra = sorted(set(found) - {r.name for r in RESOURCES})
    if extra:
        raise ImportRefused(f"unknown resource {extra[0]!r}")
    for given in descriptor["resources"]:
        if "hash" not in given or "bytes" not in given:
            raise ImportRefused(
                f"resource {given.get('name')!r}: its bytes and hash are required"
            )
    return descriptor


def refuse_invalid(errors: list[dict]) -> None:
    if errors:
        raise ImportRefused(
            str(build.PackageInvalid(errors)).replace(
                "the data package is invalid and was not published",
                "the data package is invalid",
            )
        )


def _rows(folder: Path, name: str) -> Iterator[dict]:
    with (folder / f"data/{name}.csv").open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh)


def _columns(folder: Path, name: str, columns: tuple[str, ...]) -> Iterator[tuple]:
    """Those columns of each row, as tuples: csv.reader and itemgetter take half of
    DictReader's time over a million rows (1.2 s of 2.5 s for the signatories)."""
    with (folder / f"data/{name}.csv").open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh)
        header = next(rows, [])
        missing = [c for c in columns if c not in header]
        if missing:  # the load stops; the import reports frictionless's errors
            raise ValueError(f"{name}.csv has no column {', '.join(missing)}")
        at = [header.index(c) for c in columns]
        pick = operator.itemgetter(*at) if len(at) > 1 else lambda r: (r[at[0]],)
        for row in rows:
            yield pick(row)


def _when(value: str) -> datetime:
    when = validation.read_timestamp(value)  # the package's own form, 5x faster
    if when is None:
        when = datetime.strptime(value, validation.TIMESTAMP_FORMAT)
    return when.replace(tzinfo=UTC)


@contextlib.contextmanager
def _keep_timestamps():
    """Let bulk_create keep the timestamps read from the package."""
    fields = []
    for model in (
        models.Letter,
        models.Person,
        models.Organisation,
        models.Place,
        models.Post,
        models.Membership,
        models.Signatory,
        models.Addressee,
        models.Issuer,
        models.Mention,
    ):
        for name in ("created_at", "updated_at"):
            f = model._meta.get_field(name)
            fields.append((f, f.auto_now, f.auto_now_add))
            f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in fields:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _created(model, objects: Iterable) -> Iterator:
    """bulk_create in batches of BATCH read lazily from `objects`; yields each new
    record (with its id) as its batch is written."""
    for batch in bulk.batches(objects, BATCH):
        yield from model.objects.bulk_create(batch)


def _bulk(model, objects: Iterable) -> list:
    return list(_created(model, objects))


def _empty_archive_check() -> None:
    counts = {
        "letters": models.Letter.objects.count(),
        "persons": models.Person.objects.count(),
        "organisations": models.Organisation.objects.count(),
    }
    present = {k: v for k, v in counts.items() if v}
    if present:
        listed = ", ".join(f"{v} {k}" for k, v in present.items())
        raise ImportRefused(
            f"the archive is not empty ({listed}); import loads into an empty "
            "database only"
        )


def import_package(path: Path | str) -> dict[str, int]:
    """Check and import; returns the number of rows loaded per resource."""
    with opened(Path(path)) as folder:
        check_structure(folder)
        # The load keeps a core busy: one lane fewer until it is done.
        with validation.Validation(folder, busy_caller=True) as verdict:
            if verdict.finished:  # a small package: validated before the load
                refuse_invalid(verdict.errors())
            try:
                with (
                    bulk.rollback_journal(),
                    transaction.atomic(),
                    _keep_timestamps(),
                ):
                    _empty_archive_check()
                    with bulk.search_index_deferred():
                        # The letters' plain indexes (dates, status, PostgreSQL's
                        # search index) are built once the rows are in; the
                        # footprint's counts read them.
                        with bulk.indexes_deferred(models.Letter):
                            counts = _load(folder)
                        # Bulk inserts send no signals: every footprint at once.
                        # The names went in with the letters, sorted by code point
                        # as SQLite sorts; PostgreSQL's collation may differ, so
                        # its names pass compares (and rewrites any difference).
                        footprint.refresh(
                            everything=True, names=connection.vendor != "sqlite"
                        )
                    # Commit only what frictionless finds valid; a refusal here
                    # rolls the whole load back.
                    refuse_invalid(verdict.errors())
            except ImportRefused:
                raise
            except Exception as exc:
                # The rows were read while frictionless was still at them: a package
                # it finds invalid can break the load first (an unknown key, a
                # position that is not a number). Its errors say what is wrong.
                try:
                    refuse_invalid(verdict.errors())
                except ImportRefused as refused:
                    raise refused from exc
                raise
        bulk.refresh_statistics()
        return counts


def _stamp(obj, row):
    obj.updated_at = obj.created_at = _when(row["updated"])
    return obj


def _load(folder: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    published = ReviewStatus.PUBLISHED

    places = [
        _stamp(
            models.Place(
                key=r["key"],
                name=r["name"],
                country=r["country"],
                wikidata=r["wikidata"],
            ),
            r,
        )
        for r in _rows(folder, "places")
    ]
    place_ids = {p.key: p.pk for p in _bulk(models.Place, places)}
    counts["places"] = len(place_ids)

    org_names = defaultdict(list)
    for r in _rows(folder, "organisation_names"):
        org_names[r["organisation"]].append(r["name"])
    parents = {}
    organisations = []
    for r in _rows(folder, "organisations"):
        org = models.Organisation(
            key=r["key"],
            name=r["name"],
            acronym=r["acronym"],
            kind=r["kind"],
            country=r["country"],
            other_names="\n".join(org_names[r["key"]]),
        )
        org.refresh_derived()
        organisations.append(_stamp(org, r))
        parents[r["key"]] = r["parent"]
    org_ids = {o.key: o.pk for o in _bulk(models.Organisation, organisations)}
    with_parent = [o for o in organisations if parents[o.key]]
    for org in with_parent:
        org.parent_id = org_ids[parents[org.key]]
    models.Organisation.objects.bulk_update(with_parent, ["parent"], batch_size=BATCH)
    counts["organisations"] = len(org_ids)
    counts["organisation_names"] = sum(len(v) for v in org_names.values())

    person_names = defaultdict(list)
    for r in _rows(folder, "person_names"):
        person_names[r["person"]].append(r["name"])
    persons = []
    for row_number, r in enumerate(_rows(folder, "persons"), start=2):
        if r["key"] in org_ids:
            # Frictionless checks each table's keys; the archive's one key space for
            # persons and organisations (letters.models.PartyKey) is checked here.
            raise ImportRefused(
                f"persons: row {row_number}, field key: {r['key']!r} is already the "
                "key of an organisation (organisations resource); persons and "
                "organisations share one key space"
            )
        person = models.Person(
            key=r["key"],
            display_name=r["display_name"],
            sort_name=r["sort_name"],
            honorific=r["honorific"],
            country=r["country"],
            description=r["description"],
            other_names="\n".join(person_names[r["key"]]),
        )
        person.refresh_derived()
        persons.append(_stamp(person, r))
    person_ids = {p.key: p.pk for p in _bulk(models.Person, persons)}
    counts["persons"] = len(person_ids)
    counts["person_names"] = sum(len(v) for v in person_names.values())

    identifiers = [
        models.ExternalIdentifier(
            scheme=r["scheme"],
            value=r["value"],
            person_id=person_ids.get(r["person"]) if r["person"] else None,
            organisation_id=org_ids.get(r["organisation"])
            if r["organisation"]
            else None,
        )
        for r in _rows(folder, "identifiers")
    ]
    counts["identifiers"] = len(_bulk(models.ExternalIdentifier, identifiers))

    posts = [
        _stamp(
            models.Post(
                key=r["key"],
                label=r["label"],
                role=r["role"],
                organisation_id=org_ids[r["organisation"]],
            ),
            r,
        )
        for r in _rows(folder, "posts")
    ]
    post_ids = {p.key: p.pk for p in _bulk(models.Post, posts)}
    counts["posts"] = len(post_ids)

    names = _names_by_letter(
        folder,
        persons={p.key: p.search_text for p in persons},
        organisations={o.key: o.search_text for o in organisations},
    )

    def letters():
        for r in _rows(folder, "letters"):
            letter = models.Letter(
                identifier=r["identifier"],
                title=r["title"],
                kind=r["kind"],
                date=r["date"],
                date_as_written=r["date_as_written"],
                date_certainty=r["date_certainty"],
                place_id=place_ids[r["place"]] if r["place"] else None,
                language=r["language"],
                summary=r["summary"],
                transcription=r["transcription"],
                source_file=r["source_file"],
                source_sha256=r["source_sha256"],
                status=published,
            )
            letter.refresh_derived()
            letter.names_text = names.pop(r["identifier"], "")
            yield _stamp(letter, r)

    counts["letters"] = bulk.insert_rows(
        models.Letter, *bulk.instance_rows(models.Letter, letters())
    )
    letter_ids = dict(models.Letter.objects.values_list("identifier", "pk"))

    memberships = []
    for r in _rows(folder, "memberships"):
        membership = models.Membership(
            key=r["key"],
            person_id=person_ids[r["person"]],
            organisation_id=org_ids[r["organisation"]],
            post_id=post_ids[r["post"]] if r["post"] else None,
            role=r["role"],
            start=r["start"],
            end=r["end"],
            attested_by_id=letter_ids[r["attested_by"]] if r["attested_by"] else None,
            source_note=r["source_note"],
            status=published,
        )
        membership.derive_dates()
        memberships.append(_stamp(membership, r))
    counts["memberships"] = len(_bulk(models.Membership, memberships))

    with bulk.indexes_deferred(
        models.Signatory, models.Addressee, models.Issuer, models.Mention
    ):
        _load_roles(folder, counts, letter_ids, person_ids, org_ids)
    return counts


# The package's role files by table, for the names the letters carry.
_ROLE_FILES = {
    models.Signatory._meta.db_table: "signatories",
    models.Addressee._meta.db_table: "addressees",
    models.Mention._meta.db_table: "mentions",
    models.Issuer._meta.db_table: "issuing_organisations",
}


def _names_by_letter(folder: Path, persons: dict, organisations: dict) -> dict:
    """Each letter's ``names_text`` (letters.search), from the package's role rows:
    the folded names of the persons and organisations named in the columns
    ``search.name_sources()`` lists, as ``search.names_document`` writes them.
    Written with the letter, it spares a second write of every letter once the roles
    are in (on PostgreSQL that rewrite recomputes each stored search document: 51 s
    at 100k letters). SQLite sorts the same way; on PostgreSQL the footprint's names
    pass still compares every letter with its roles and rewrites any that differ (a
    database collating otherwise than by code point). Tests check the names against
    the roles after an import."""
    by_file: dict[str, list[str]] = defaultdict(list)
    for table, column in search.name_sources():
        by_file[_ROLE_FILES[table]].append(column.removesuffix("_id"))
    found: dict[str, list[str]] = defaultdict(list)
    for resource, named in by_file.items():
        # (position in the row, keys to names), the letter being first
        tables = [
            (at, persons if c == "person" else organisations)
            for at, c in enumerate(named, start=1)
        ]
        for row in _columns(folder, resource, ("letter", *named)):
            texts = found[row[0]]
            for at, table in tables:
                if row[at]:
                    texts.append(table[row[at]])
    return {letter: search.names_document(texts) for letter, texts in found.items()}


def _load_roles(folder, counts, letter_ids, person_ids, org_ids) -> None:
    """The role tables, a million rows and more: plain INSERTs (letters/bulk.py) of
    rows frictionless has validated, with their timestamps from the package."""

    def ref(ids, value):
        return ids[value] if value else None

    stamps: dict[str, tuple] = {}

    def stamped(when: str) -> tuple:
        if when not in stamps:
            stamps[when] = bulk.stamp(_when(when))
        return stamps[when]

    role = ["letter_id"]
    counts["signatories"] = bulk.insert_rows(
        models.Signatory,
        [*role, "position", "name_as_written", "person_id", "certainty", "capacity",
         "organisation_id", "identification_note", *bulk.STAMP_COLUMNS],
        (
            (letter_ids[letter], int(position), name_as_written,
             ref(person_ids, person), certainty, capacity, ref(org_ids, organisation),
             note, *stamped(updated))
            for letter, position, name_as_written, person, certainty, capacity,
            organisation, note, updated in _columns(folder, "signatories", (
                "letter", "position", "name_as_written", "person", "certainty",
                "capacity", "organisation", "note", "updated"))
        ),
    )  # fmt: skip
    counts["addressees"] = bulk.insert_rows(
        models.Addressee,
        [*role, "position", "role", "person_id", "organisation_id",
         "office_as_written", "certainty", "identification_note", *bulk.STAMP_COLUMNS],
        (
            (letter_ids[letter], int(position), kind, ref(person_ids, person),
             ref(org_ids, organisation), office_as_written, certainty, note,
             *stamped(updated))
            for letter, position, kind, person, organisation, office_as_written,
            certainty, note, updated in _columns(folder, "addressees", (
                "letter", "position", "role", "person", "organisation",
                "office_as_written", "certainty", "note", "updated"))
        ),
    )  # fmt: skip
    counts["issuing_organisations"] = bulk.insert_rows(
        models.Issuer,
        [*role, "organisation_id", *bulk.STAMP_COLUMNS],
        (
            (letter_ids[letter], org_ids[organisation], *stamped(updated))
            for letter, organisation, updated in _columns(
                folder, "issuing_organisations", ("letter", "organisation", "updated")
            )
        ),
    )
    # Mentions have no stored position: insert them in the package's order within
    # each letter, so the ids (and a re-export) keep that order.
    mention_rows = sorted(
        _columns(folder, "mentions", (
            "letter", "position", "person", "organisation", "name_as_written",
            "certainty", "note", "updated")),
        key=lambda r: (r[0], int(r[1])),
    )  # fmt: skip
    counts["mentions"] = bulk.insert_rows(
        models.Mention,
        [*role, "person_id", "organisation_id", "name_as_written", "certainty",
         "identification_note", *bulk.STAMP_COLUMNS],
        (
            (letter_ids[letter], ref(person_ids, person), ref(org_ids, organisation),
             name_as_written, certainty, note, *stamped(updated))
            for letter, _position, person, organisation, name_as_written, certainty,
            note, updated in mention_rows
        ),
    )  # fmt: skip
