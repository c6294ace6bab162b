"""Every write to the archive. Functions are keyword-only, atomic, and call
full_clean() before saving, so the database never holds a record the admin would
refuse. History is kept (django-simple-history) under the acting user.

Seed loading and curators share the records, so the loader follows one rule: the source
document owns the transcription and checksum; curators own everything else. The loader
remembers what it last wrote in each record's ``seed_snapshot``; on a reload it
changes a field only while the field still holds that value, so a curator's edit is
never overwritten (it is reported instead).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from letters import footprint
from letters.catalogue import (
    Catalogue,
    LetterRecord,
    MembershipRecord,
    OrganisationRecord,
    PersonRecord,
    PlaceRecord,
    PostRecord,
)
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
from letters.vocabularies import ReviewStatus

SEED_LOADER_USERNAME = "seed-loader"
CHANGE_REASON = "Loaded from the seed catalogue"


class ServiceError(ValueError):
    """A write was refused; the message names the record and the field."""


@dataclass
class LoadReport:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    deleted: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    kept_edits: list[str] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return (
            sum(self.created.values())
            + sum(self.updated.values())
            + sum(self.deleted.values())
        )

    def lines(self) -> list[str]:
        models_seen = sorted(
            set(self.created)
            | set(self.updated)
            | set(self.unchanged)
            | set(self.deleted)
        )
        out = [
            f"{name}: {self.created[name]} created, {self.updated[name]} updated, "
            f"{self.deleted[name]} deleted, {self.unchanged[name]} unchanged"
            for name in models_seen
        ]
        out += [f"kept curator edit: {edit}" for edit in self.kept_edits]
        return out


def seed_loader_user():
    """The system account under which the loader's changes appear in the history.
    It cannot log in (inactive, no usable password)."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=SEED_LOADER_USERNAME,
        defaults={"is_active": False, "first_name": "Seed", "last_name": "loader"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


# --- the snapshot rule ---------------------------------------------------------------


def _save(
    obj: models.Model, *, actor, origin: str, reason: str = CHANGE_REASON
) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise ServiceError(f"{origin}, {_describe(exc)}") from exc
    obj._history_user = actor
    obj._change_reason = reason
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise ServiceError(f"{origin}: refused by the database: {exc}") from exc


def _describe(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(
            f"field '{name}': {' '.join(messages)}"
            for name, messages in sorted(exc.message_dict.items())
        )
    return " ".join(exc.messages)


def _sync(
    obj: models.Model,
    desired: dict[str, Any],
    *,
    source_owned: frozenset[str] = frozenset(),
    label: str,
    report: LoadReport,
) -> bool:
    """Apply desired values to obj under the snapshot rule. Returns True if a field
    changed. Curator edits are kept and reported."""
    snapshot = dict(obj.seed_snapshot or {})
    changed = False
    for name, new in desired.items():
        current = getattr(obj, name)
        if current == new:
            continue
        if obj.pk is None or name in source_owned:
            setattr(obj, name, new)
            changed = True
        elif name in snapshot and snapshot[name] == current:
            setattr(obj, name, new)  # untouched since the last load: follow the source
            changed = True
        elif name not in snapshot and current in ("", None):
            setattr(obj, name, new)  # a new catalogue field filling an empty one
            changed = True
        else:
            report.kept_edits.append(f"{label}: {name}")
    obj.seed_snapshot = {name: desired[name] for name in sorted(desired)}
    return changed or snapshot != obj.seed_snapshot


def _upsert(
    model,
    lookup: dict[str, Any],
    desired: dict[str, Any],
    *,
    actor,
    origin: str,
    report: LoadReport,
    source_owned: frozenset[str] = frozenset(),
):
    name = model._meta.verbose_name_plural
    obj = model.objects.filter(**lookup).first()
    created = obj is None
    if created:
        obj = model(**lookup)
    before = dict(obj.seed_snapshot or {}) if not created else None
    values_before = {k: getattr(obj, k) for k in desired} if not created else None
    if not _sync(obj, desired, source_owned=source_owned, label=origin, report=report):
        report.unchanged[name] += 1
        return obj
    values_after = {k: getattr(obj, k) for k in desired}
    if not created and values_before == values_after:
        # Only the snapshot moved (the catalogue changed a field a curator had
        # edited): record it without a history entry, the record did not change.
        if before != obj.seed_snapshot:
            model.objects.filter(pk=obj.pk).update(seed_snapshot=obj.seed_snapshot)
        report.unchanged[name] += 1
        return obj
    _save(obj, actor=actor, origin=origin)
    (report.created if created else report.updated)[name] += 1
    return obj


# --- entities -----------------------------------------------------------------------


def place_upsert(*, record: PlaceRecord, actor, report: LoadReport) -> Place:
    return _upsert(
        Place,
        {"key": record.key},
        {"name": record.name, "country": record.country, "wikidata": record.wikidata},
        actor=actor,
        origin=record.origin,
        report=report,
    )


def organisation_upsert(
    *, record: OrganisationRecord, actor, report: LoadReport
) -> Organisation:
    parent_id = None
    if record.parent:
        parent_id = Organisation.objects.values_list("pk", flat=True).get(
            key=record.parent
        )
    org = _upsert(
        Organisation,
        {"key": record.key},
        {
            "name": record.name,
            "acronym": record.acronym,
            "other_names": "\n".join(record.other_names),
            "kind": record.kind,
            "country": record.country,
            "parent_id": parent_id,
            "email": record.email,
            "telephone": record.telephone,
        },
        actor=actor,
        origin=record.origin,
        report=report,
    )
    _identifiers_add(
        owner={"organisation": org},
        identifiers=record.identifiers,
        actor=actor,
        origin=record.origin,
        report=report,
    )
    return org


def person_upsert(*, record: PersonRecord, actor, report: LoadReport) -> Person:
    person = _upsert(
        Person,
        {"key": record.key},
        {
            "display_name": record.display_name,
            "sort_name": record.sort_name,
            "other_names": "\n".join(record.other_names),
            "honorific": record.honorific,
            "country": record.country,
            "description": record.description,
            "email": record.email,
            "telephone": record.telephone,
        },
        actor=actor,
        origin=record.origin,
        report=report,
    )
    _identifiers_add(
        owner={"person": person},
        identifiers=record.identifiers,
        actor=actor,
        origin=record.origin,
        report=report,
    )
    return person


def _identifiers_add(*, owner, identifiers, actor, origin, report) -> None:
    """Add the catalogue's identifiers; one a curator has changed is kept."""
    for scheme, value in identifiers:
        existing = ExternalIdentifier.objects.filter(**owner, scheme=scheme).first()
        if existing is None:
            _save(
                ExternalIdentifier(**owner, scheme=scheme, value=value),
                actor=actor,
                origin=f"{origin}, identifier {scheme}",
            )
            report.created["external identifiers"] += 1
        elif existing.value != value:
            report.kept_edits.append(f"{origin}: identifier {scheme}")
        else:
            report.unchanged["external identifiers"] += 1


def post_upsert(*, record: PostRecord, actor, report: LoadReport) -> Post:
    return _upsert(
        Post,
        {"key": record.key},
        {
            "label": record.label,
            "role": record.role,
            "organisation_id": Organisation.objects.values_list("pk", flat=True).get(
                key=record.organisation
            ),
        },
        actor=actor,
        origin=record.origin,
        report=report,
    )


def membership_upsert(
    *, record: MembershipRecord, actor, report: LoadReport, status: str
) -> Membership:
    return _upsert(
        Membership,
        {"key": record.key},
        {
            "person_id": Person.objects.values_list("pk", flat=True).get(
                key=record.person
            ),
            "organisation_id": Organisation.objects.values_list("pk", flat=True).get(
                key=record.organisation
            ),
            "post_id": (
                Post.objects.values_list("pk", flat=True).get(key=record.post)
                if record.post
                else None
            ),
            "role": record.role,
            "start": record.start,
            "end": record.end,
            "attested_by_id": (
                Letter.objects.values_list("pk", flat=True).get(
                    identifier=record.attested_by
                )
                if record.attested_by
                else None
            ),
            "source_note": record.source_note,
            "status": status,
        },
        actor=actor,
        origin=record.origin,
        report=report,
    )


# --- letters and their roles ---------------------------------------------------------


def letter_upsert(*, record: LetterRecord, actor, report: LoadReport) -> Letter:
    """Create or update one letter and its roles from a catalogue record."""
    ids = _Keys()
    letter = _upsert(
        Letter,
        {"identifier": record.identifier},
        {
            "title": record.title,
            "kind": record.kind,
            "date": record.date,
            "date_as_written": record.date_as_written,
            "date_certainty": record.date_certainty,
            "place_id": ids.place(record.place),
            "language": record.language,
            "summary": record.summary,
            "notes": record.notes,
            "status": record.status,
            "transcription": record.transcription,
            "source_file": record.source,
            "source_sha256": record.sha256,
        },
        source_owned=frozenset({"transcription", "source_file", "source_sha256"}),
        actor=actor,
        origin=record.origin,
        report=report,
    )
    _sync_children(
        letter.signatories.all(),
        {
            (s.position,): {
                "position": s.position,
                "name_as_written": s.name_as_written,
                "person_id": ids.person(s.person),
                "certainty": s.certainty,
                "capacity": s.capacity,
                "organisation_id": ids.organisation(s.organisation),
                "identification_note": s.note,
            }
            for s in record.signatories
        },
        key_fields=("position",),
        model=Signatory,
        letter=letter,
        actor=actor,
        origin=f"{record.origin}, signatory",
        report=report,
    )
    _sync_children(
        letter.addressees.all(),
        {
            (a.position,): {
                "position": a.position,
                "role": a.role,
                "person_id": ids.person(a.person),
                "organisation_id": ids.organisation(a.organisation),
                "office_as_written": a.office_as_written,
                "certainty": a.certainty,
                "identification_note": a.note,
            }
            for a in record.addressees
        },
        key_fields=("position",),
        model=Addressee,
        letter=letter,
        actor=actor,
        origin=f"{record.origin}, addressee",
        report=report,
    )
    _sync_children(
        letter.issuers.all(),
        {
            (ids.organisation(key),): {"organisation_id": ids.organisation(key)}
            for key in record.issuers
        },
        key_fields=("organisation_id",),
        model=Issuer,
        letter=letter,
        actor=actor,
        origin=f"{record.origin}, issuer",
        report=report,
    )
    _sync_children(
        letter.mentions.all(),
        {
            (ids.person(m.person), ids.organisation(m.organisation)): {
                "person_id": ids.person(m.person),
                "organisation_id": ids.organisation(m.organisation),
                "name_as_written": m.name_as_written,
                "certainty": m.certainty,
                "identification_note": m.note,
            }
            for m in record.mentions
        },
        key_fields=("person_id", "organisation_id"),
        model=Mention,
        letter=letter,
        actor=actor,
        origin=f"{record.origin}, mention",
        report=report,
    )
    return letter


class _Keys:
    """Catalogue key -> primary key, cached for one letter."""

    def __init__(self):
        self._cache: dict[tuple[type, str], int] = {}

    def _get(self, model, key: str) -> int | None:
        if not key:
            return None
        if (model, key) not in self._cache:
            self._cache[(model, key)] = model.objects.values_list("pk", flat=True).get(
                key=key
            )
        return self._cache[(model, key)]

    def person(self, key: str) -> int | None:
        return self._get(Person, key)

    def organisation(self, key: str) -> int | None:
        return self._get(Organisation, key)

    def place(self, key: str) -> int | None:
        return self._get(Place, key)


def _sync_children(
    queryset, desired, *, key_fields, model, letter, actor, origin, report
) -> None:
    """Match a letter's role rows to the catalogue's by key. Rows a curator added
    (no snapshot) are never touched; seeded rows a curator edited are kept."""
    name = model._meta.verbose_name_plural
    existing = {}
    for row in queryset:
        if row.seed_snapshot:
            existing[tuple(getattr(row, f) for f in key_fields)] = row
    for key, values in desired.items():
        row = existing.pop(key, None)
        label = f"{origin} {', '.join(str(k) for k in key if k is not None)}"
        if row is None:
            row = model(letter=letter)
            _sync(row, values, label=label, report=report)
            _save(row, actor=actor, origin=label)
            report.created[name] += 1
            continue
        before = {k: getattr(row, k) for k in values}
        snapshot_before = dict(row.seed_snapshot)
        _sync(row, values, label=label, report=report)
        after = {k: getattr(row, k) for k in values}
        if before != after:
            _save(row, actor=actor, origin=label)
            report.updated[name] += 1
        else:
            if snapshot_before != row.seed_snapshot:
                model.objects.filter(pk=row.pk).update(seed_snapshot=row.seed_snapshot)
            report.unchanged[name] += 1
    for key, row in existing.items():
        current = {k: getattr(row, k) for k in row.seed_snapshot}
        label = f"{origin} {', '.join(str(k) for k in key if k is not None)}"
        if current == row.seed_snapshot:
            row._history_user = actor
            row._change_reason = "Removed from the seed catalogue"
            row.delete()
            report.deleted[name] += 1
        else:
            report.kept_edits.append(
                f"{label}: removed from the catalogue but edited by a curator, kept"
            )


# --- the whole catalogue -------------------------------------------------------------


def catalogue_load(
    *, catalogue: Catalogue, actor=None, dry_run: bool = False
) -> LoadReport:
    """Load a whole catalogue in one transaction: all of it or nothing."""
    report = LoadReport()
    with transaction.atomic(), footprint.deferred():
        actor = actor or seed_loader_user()
        for place in catalogue.places:
            place_upsert(record=place, actor=actor, report=report)
        for org in catalogue.organisations:
            organisation_upsert(record=org, actor=actor, report=report)
        for person in catalogue.persons:
            person_upsert(record=person, actor=actor, report=report)
        for post in catalogue.posts:
            post_upsert(record=post, actor=actor, report=report)
        for letter in catalogue.letters:
            letter_upsert(record=letter, actor=actor, report=report)
        for membership in catalogue.memberships:
            membership_upsert(
                record=membership,
                actor=actor,
                report=report,
                status=ReviewStatus.PUBLISHED,
            )
        if dry_run:
            transaction.set_rollback(True)
    return report


# --- curation actions ----------------------------------------------------------------


def letter_set_status(*, letter: Letter, status: str, actor) -> bool:
    """Publish, send to review or unpublish a letter. Returns True if it changed."""
    if status not in ReviewStatus.values:
        raise ServiceError(f"{letter.identifier}: unknown status {status!r}")
    if letter.status == status:
        return False
    with transaction.atomic():
        letter.status = status
        _save(
            letter,
            actor=actor,
            origin=letter.identifier,
            reason=f"Status set to {status}",
        )
    return True
