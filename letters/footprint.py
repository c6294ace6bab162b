"""The public footprint of persons and organisations: derived, stored, never curated.

Whether a person or organisation is public, and how many published letters each signed,
received or is named in, follows from the role rows of every published letter: about
1.5 million rows at 100k letters. Counting them per request took seconds (persons by
letters signed: 6 s; the organisations list: 22 s), so the answer is stored on the
records instead (``is_public`` and the ``letters_*`` columns) and kept exact here:

- a save or delete of a letter, a role row, an office, a person or an organisation
  refreshes the records it touches, in the same transaction (signal handlers, so the
  admin and the seed loader need nothing special);
- bulk writes, which send no signals (``generate_corpus``, ``import_datapackage``),
  call :func:`refresh` for everything before they commit;
- services that save many rows run under :func:`deferred`, which collects what the
  signals touch and refreshes it once at the end, still inside the transaction.

Data still flows one way: the footprint is written by services, read by the API and
the data package, and nothing reads it to decide what to write elsewhere.
:func:`drift` recomputes it from scratch and lists every difference
(``manage.py refresh_footprint --check``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from contextlib import contextmanager

from django.apps import apps as global_apps
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.db.models.signals import post_delete, post_save, pre_save

from letters import cards, search

PUBLISHED = "published"
# column: the role model whose rows it counts, every row (the facets count the same
# rows: letters.facets).
PERSON_COUNTS = {
    "letters_signed": "Signatory",
    "letters_received": "Addressee",
    "letters_mentioned_in": "Mention",
}
ORGANISATION_COUNTS = {
    "letters_issued": "Issuer",
    "letters_signed_for": "Signatory",
    "letters_received": "Addressee",
    "letters_mentioned_in": "Mention",
}
ROLE_COUNTS = {"Person": PERSON_COUNTS, "Organisation": ORGANISATION_COUNTS}
# A person's published letters as addressee, split by the addressee's role: `to` and
# `cc` (a letter may hold them in both, so they can add up to more than
# letters_received). What the persons' role=to and role=cc filters read.
ADDRESSEE_ROLE_COUNTS = {"letters_addressed": "to", "letters_copied": "cc"}
# Published letters in any role, each letter once (at least the largest role count,
# at most their sum): what the person and organisation facets count (letters.facets).
TOTAL = "letters_total"
FOOTPRINT_FIELDS = {
    "Person": [
        *PERSON_COUNTS,
        *ADDRESSEE_ROLE_COUNTS,
        TOTAL,
        "public_offices",
        "is_public",
    ],
    "Organisation": [*ORGANISATION_COUNTS, TOTAL, "public_offices", "is_public"],
}
CHUNK = 900  # ids per statement: far below every engine's bound-parameter limit


# The stored count of a record's published letters in each role a letter filter
# names (LetterFilter's `role` values; `signatory` alone for the signatory filter).
# Organisations have no to/cc split: both read letters_received, an upper bound.
ROLE_FOOTPRINT = {
    "Person": {
        "signatory": "letters_signed",
        "to": "letters_addressed",
        "cc": "letters_copied",
        "addressee": "letters_received",
        "mentioned": "letters_mentioned_in",
    },
    "Organisation": {
        "issuer": "letters_issued",
        "signatory": "letters_signed_for",
        "to": "letters_received",
        "cc": "letters_received",
        "addressee": "letters_received",
        "mentioned": "letters_mentioned_in",
    },
}


def _footprint_columns(model, roles) -> list[str] | None:
    """The stored count fields that role_footprint_sql adds up (None: letters_total,
    for no role; an empty list: none of these roles is the record's)."""
    if not roles:
        return None
    columns = ROLE_FOOTPRINT[model.__name__]
    if "addressee" in roles:  # to or cc, each letter once
        roles = [r for r in roles if r not in ("to", "cc")]
    return sorted({columns[role] for role in roles if role in columns})


def role_footprint_sql(model, roles=None) -> str:
    """A person's or organisation's stored count of the published letters that hold
    it in one of these roles (in any role when none is given), as SQL on the
    record's own table: the footprint the letter filters plan with
    (LetterFilter._footprint_sql, in the probe's one query).

    Exact for no role (letters_total) and for one role; for several, the sum of
    their counts, at most letters_total (a letter may hold it in more than one).
    A role the record cannot hold (a person as issuer) counts nothing. SQLite's
    least of two values is its scalar min()."""

    def column(name: str) -> str:
        quote = connection.ops.quote_name
        return (
            f"{quote(model._meta.db_table)}.{quote(model._meta.get_field(name).column)}"
        )

    named = _footprint_columns(model, roles)
    if named is None:
        return column(TOTAL)
    if not named:
        return "0"
    if len(named) == 1:
        return column(named[0])
    total = " + ".join(column(name) for name in named)
    least = "MIN" if connection.vendor == "sqlite" else "LEAST"
    return f"{least}(({total}), {column(TOTAL)})"


# --- refreshing ---------------------------------------------------------------------


def _letter_count(role_model, owner: str, **where) -> Coalesce:
    """Correlated COUNT(DISTINCT letter) of published letters in this role, of its
    rows matching ``where`` (drift's own way of counting, independent of the
    refresh's grouped pass)."""
    sub = (
        role_model.objects.filter(
            **{owner: OuterRef("pk")}, **where, letter__status=PUBLISHED
        )
        .order_by()
        .values(owner)
        .annotate(n=Count("letter", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(sub, output_field=IntegerField()), 0)


def _total_count(registry, model, counts: dict, owner: str) -> RawSQL:
    """Correlated COUNT(DISTINCT letter) of published letters in any role (drift)."""
    q = connection.ops.quote_name
    outer = f"{q(model._meta.db_table)}.{q('id')}"
    arms = [
        f"SELECT letter_id FROM {q(registry.get_model('letters', role)._meta.db_table)}"
        f" WHERE {q(owner + '_id')} = {outer}"
        for role in counts.values()
    ]
    letters = q(registry.get_model("letters", "Letter")._meta.db_table)
    return RawSQL(
        f"SELECT COUNT(DISTINCT r.letter_id) FROM ({' UNION ALL '.join(arms)}) AS r "
        f"WHERE r.letter_id IN (SELECT id FROM {letters} WHERE status = %s)",
        [PUBLISHED],
        output_field=IntegerField(),
    )


def _office_count(membership_model, owner: str) -> Coalesce:
    sub = (
        membership_model.objects.filter(**{owner: OuterRef("pk")}, status=PUBLISHED)
        .order_by()
        .values(owner)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(sub, output_field=IntegerField()), 0)


def _chunks(ids: Iterable[int] | None):
    if ids is None:
        yield None
        return
    ids = sorted({i for i in ids if i is not None})
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _grouped_counts(
    registry, counts: dict, owner: str, ids, by_role: dict | None = None
) -> dict[int, dict[str, int]]:
    """{entity id: {column: published letters}} for these entities (all of them with
    None), in ONE grouped pass over their role rows: each role of ``counts``, the
    addressee rows of each role in ``by_role`` (column: `to` or `cc`), and any role
    (TOTAL); an entity in no published letter is absent. At 100k letters the whole
    pass replaced one correlated count per role (persons and organisations from
    zero: 2.7-3.3 s -> 2.9-3.7 s on SQLite, with the total besides;
    docs/benchmarks.md)."""
    letter = registry.get_model("letters", "Letter")
    by_role = by_role or {}
    arms, params = [], []
    addressee_arm = None
    for index, role in enumerate(counts.values()):
        model = registry.get_model("letters", role)
        rows = model.objects.filter(**{f"{owner}__isnull": False})
        if ids is not None:
            # A few entities: their rows by index, each letter's status looked up
            # by its key. Testing them against the set of every published letter
            # built that set each time: a person's refresh 4-75 -> 255-350 ms.
            rows = rows.filter(**{f"{owner}__in": ids, "letter__status": PUBLISHED})
        if role == "Addressee":
            addressee_arm, detail = index, F("role")
        else:
            detail = Value("")
        sql, arm_params = (
            rows.order_by()
            .annotate(entity=F(f"{owner}_id"), kind=Value(index), detail=detail)
            .values_list("entity", "letter_id", "kind", "detail")
            .query.sql_with_params()
        )
        arms.append(sql)
        params += arm_params
    if by_role and addressee_arm is None:
        raise ValueError("counts by addressee role need the addressee rows")
    where = ""
    if ids is None:
        # Every entity: the published letters as one set each pair is tested
        # against (the unary plus keeps SQLite from driving from the letters).
        published, published_params = (
            letter.objects.filter(status=PUBLISHED).values("pk").query.sql_with_params()
        )
        where = f"WHERE +pairs.letter_id IN ({published}) "
        params += published_params
    columns = [*counts, *by_role, TOTAL]
    aggregates = [
        f"COUNT(DISTINCT CASE WHEN pairs.kind = {index} THEN pairs.letter_id END)"
        for index in range(len(counts))
    ]
    aggregate_params = []
    for value in by_role.values():
        aggregates.append(
            f"COUNT(DISTINCT CASE WHEN pairs.kind = {addressee_arm} "
            f"AND pairs.detail = %s THEN pairs.letter_id END)"
        )
        aggregate_params.append(value)
    aggregates.append("COUNT(DISTINCT pairs.letter_id)")
    sql = (
        f"SELECT pairs.entity, {', '.join(aggregates)} "
        f"FROM ({' UNION ALL '.join(arms)}) AS pairs {where}GROUP BY pairs.entity"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*aggregate_params, *params])
        return {
            row[0]: dict(zip(columns, row[1:], strict=True))
            for row in cursor.fetchall()
        }


def _has_field(model, name: str) -> bool:
    return any(field.name == name for field in model._meta.get_fields())


def _refresh_counts(
    registry, model_name: str, counts: dict, owner: str, ids, by_role=None
) -> None:
    model = registry.get_model("letters", model_name)
    membership = registry.get_model("letters", "Membership")
    # The historical models of earlier migrations lack the later columns (the
    # total before 0021, the counts by addressee role before 0022).
    by_role = {c: r for c, r in (by_role or {}).items() if _has_field(model, c)}
    columns = [*counts, *by_role]
    columns += [TOTAL] if _has_field(model, TOTAL) else []
    q = connection.ops.quote_name
    update = (
        f"UPDATE {q(model._meta.db_table)} SET "
        + ", ".join(f"{q(column)} = %s" for column in columns)
        + f" WHERE {q('id')} = %s"
    )
    for chunk in _chunks(ids):
        rows = (
            model.objects.all() if chunk is None else model.objects.filter(pk__in=chunk)
        )
        counted = _grouped_counts(registry, counts, owner, chunk, by_role)
        changed = []
        for pk, *stored in rows.order_by("pk").values_list("pk", *columns):
            found = counted.get(pk, {})
            want = tuple(found.get(column, 0) for column in columns)
            if tuple(stored) != want:
                changed.append([*want, pk])
        if changed:
            with connection.cursor() as cursor:
                cursor.executemany(update, changed)
        rows.update(public_offices=_office_count(membership, owner))
        if model_name == "Person":
            direct = Q(public_offices__gt=0)
            for column in counts:
                direct |= Q(**{f"{column}__gt": 0})
            rows.update(
                is_public=ExpressionWrapper(direct, output_field=BooleanField())
            )


def _refresh_organisation_visibility(registry) -> None:
    """An organisation is public when a published record names it, or names one of
    its children or grandchildren (a public committee names its parliament).
    Organisations number in the hundreds, so this always covers all of them."""
    organisation = registry.get_model("letters", "Organisation")
    direct_q = Q(public_offices__gt=0)
    for column in ORGANISATION_COUNTS:
        direct_q |= Q(**{f"{column}__gt": 0})
    direct = set(organisation.objects.filter(direct_q).values_list("pk", flat=True))
    parents = set(
        organisation.objects.filter(pk__in=direct, parent__isnull=False).values_list(
            "parent_id", flat=True
        )
    )
    grandparents = set(
        organisation.objects.filter(pk__in=parents, parent__isnull=False).values_list(
            "parent_id", flat=True
        )
    )
    public = direct | parents | grandparents
    hidden = organisation.objects.filter(is_public=True).exclude(pk__in=public)
    hidden.update(is_public=False)
    for chunk in _chunks(public):
        organisation.objects.filter(pk__in=chunk, is_public=False).update(
            is_public=True
        )


def refresh(
    *, persons: Iterable[int] | None = None, organisations: Iterable[int] | None = None,
    letters: Iterable[int] | None = None, everything: bool = False,
    names: bool = True, registry=global_apps,
) -> None:  # fmt: skip
    """Recompute the footprint of these persons and organisations, and the names in the
    search document and the card of these letters (the names of all of them with
    ``everything``; the bulk loaders build the cards after their commit, see
    letters.cards). Run inside the transaction that changed them. Migrations pass
    their own ``registry``; the names column exists from migration 0008 on, which
    fills it itself. ``names=False`` leaves the names alone: a bulk loader that wrote
    them exactly (the import on SQLite)."""
    if everything:
        _analyze()
    if names and registry is global_apps and (everything or letters):
        search.refresh_names(None if everything else letters)
    if registry is global_apps and letters and not everything:
        cards.rebuild(letters)
    if everything or persons:
        ids = None if everything else persons
        _refresh_counts(
            registry, "Person", PERSON_COUNTS, "person", ids, ADDRESSEE_ROLE_COUNTS
        )
    if everything or organisations:
        ids = None if everything else organisations
        _refresh_counts(
            registry, "Organisation", ORGANISATION_COUNTS, "organisation", ids
        )
        _refresh_organisation_visibility(registry)


def _analyze() -> None:
    """Planner statistics for the rows a bulk load just wrote, before the refresh's
    correlated counts: without them PostgreSQL plans for the tables as they were (empty)
    and spent over 6 minutes on the persons' counts at 100k letters. ANALYZE in the
    transaction samples its own uncommitted rows. SQLite's planner does without."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE letters_letter, letters_signatory, letters_addressee, "
            "letters_mention, letters_issuer, letters_person, letters_organisation, "
            "letters_membership"
        )


# --- what a change touches -----------------------------------------------------------


class _Pending(threading.local):
    def __init__(self):
        self.depth = 0
        self.persons: set[int] = set()
        self.organisations: set[int] = set()
        self.letters: set[int] = set()


_pending = _Pending()


@contextmanager
def deferred():
    """Collect what the signals touch and refresh it once, on leaving the block (which
    must be inside the transaction that does the writes). On an error nothing is
    refreshed: the transaction is rolling back anyway."""
    _pending.depth += 1
    completed = False
    try:
        yield
        completed = True
    finally:
        _pending.depth -= 1
        if _pending.depth == 0:
            touched = {
                "persons": _pending.persons,
                "organisations": _pending.organisations,
                "letters": _pending.letters,
            }
            _pending.persons, _pending.organisations = set(), set()
            _pending.letters = set()
            connection = transaction.get_connection()
            rolling_back = connection.in_atomic_block and connection.needs_rollback
            if completed and not rolling_back:  # a dry run rolls back: skip it
                refresh(**touched)


def _touch(persons=(), organisations=(), letters=()) -> None:
    persons = {p for p in persons if p is not None}
    organisations = {o for o in organisations if o is not None}
    letters = {n for n in letters if n is not None}
    if not persons and not organisations and not letters:
        return
    if _pending.depth:
        _pending.persons |= persons
        _pending.organisations |= organisations
        _pending.letters |= letters
    else:
        refresh(persons=persons, organisations=organisations, letters=letters)


def letters_changed(letter_ids: Iterable[int]) -> None:
    """The status of these letters changed: refresh everyone they involve."""
    from letters.models import Addressee, Issuer, Mention, Signatory

    persons: set[int] = set()
    organisations: set[int] = set()
    for chunk in _chunks(letter_ids):
        for model in (Signatory, Addressee, Mention):
            for person, org in model.objects.filter(letter_id__in=chunk).values_list(
                "person_id", "organisation_id"
            ):
                persons.add(person)
                organisations.add(org)
        organisations.update(
            Issuer.objects.filter(letter_id__in=chunk).values_list(
                "organisation_id", flat=True
            )
        )
    _touch(persons, organisations)


def _previous(sender, instance, fields) -> dict:
    """The row as the database holds it before this save (None for a new row)."""
    if instance._state.adding or instance.pk is None:
        return {}
    return sender._default_manager.filter(pk=instance.pk).values(*fields).first() or {}


def _before_save(sender, instance, raw=False, **kwargs) -> None:
    from letters.serializers import REF_FIELDS  # (models import this module)

    fields = [f for f in ("letter_id", "person_id", "organisation_id", "status",
                          "parent_id", "search_text")
              if hasattr(instance, f)]  # fmt: skip
    fields += REF_FIELDS.get(sender.__name__, ())  # what the letters' cards show
    instance._footprint_before = _previous(sender, instance, fields) if fields else {}


def _role_changed(sender, instance, **kwargs) -> None:
    before = getattr(instance, "_footprint_before", {})
    _touch(
        persons={getattr(instance, "person_id", None), before.get("person_id")},
        organisations={instance.organisation_id, before.get("organisation_id")},
        letters={getattr(instance, "letter_id", None), before.get("letter_id")},
    )


def _letter_changed(sender, instance, **kwargs) -> None:
    _touch(letters={instance.pk})  # its card shows most of its fields
    before = getattr(instance, "_footprint_before", {})
    if kwargs.get("created") or before.get("status") == instance.status:
        return  # a new letter has no roles yet; other fields do not move the footprint
    letters_changed([instance.pk])


def _renamed(instance, **kwargs) -> bool:
    """A new name for search, or a new key or name for the letters' cards."""
    from letters.serializers import REF_FIELDS

    if kwargs.get("created"):
        return False
    before = getattr(instance, "_footprint_before", {})
    shown = REF_FIELDS[instance.__class__.__name__]
    return any(
        before.get(field) != getattr(instance, field)
        for field in ("search_text", *shown)
        if hasattr(instance, field)
    )


def _person_saved(sender, instance, **kwargs) -> None:
    named = (
        search.letters_naming(persons=[instance.pk])
        if _renamed(instance, **kwargs)
        else ()
    )
    _touch(persons={instance.pk}, letters=named)


def _organisation_saved(sender, instance, **kwargs) -> None:
    named = (
        search.letters_naming(organisations=[instance.pk])
        if _renamed(instance, **kwargs)
        else ()
    )
    _touch(organisations={instance.pk}, letters=named)


def _place_saved(sender, instance, **kwargs) -> None:
    if _renamed(instance, **kwargs):
        _touch(letters=instance.letters.values_list("pk", flat=True))


def _letter_deleted(sender, instance, **kwargs) -> None:
    """Its roles' deletion, just before, may have rebuilt its card (the letter still
    existed then); the card must not outlive the letter."""
    from letters.models import LetterCard

    LetterCard.objects.filter(letter_id=instance.pk).delete()


def connect_signals() -> None:
    from letters import models

    for model in (models.Signatory, models.Addressee, models.Mention, models.Issuer,
                  models.Membership):  # fmt: skip
        pre_save.connect(_before_save, sender=model, dispatch_uid=f"fp-pre-{model}")
        post_save.connect(_role_changed, sender=model, dispatch_uid=f"fp-save-{model}")
        post_delete.connect(_role_changed, sender=model, dispatch_uid=f"fp-del-{model}")
    pre_save.connect(_before_save, sender=models.Letter, dispatch_uid="fp-pre-letter")
    post_save.connect(_letter_changed, sender=models.Letter, dispatch_uid="fp-letter")
    post_delete.connect(
        _letter_deleted, sender=models.Letter, dispatch_uid="fp-letter-deleted"
    )
    # A saved person or organisation may carry stale footprint values read before a
    # concurrent refresh; recomputing them after the save puts the truth back. A new
    # name also rewrites the search document of the letters that involve them.
    pre_save.connect(_before_save, sender=models.Person, dispatch_uid="fp-pre-person")
    pre_save.connect(
        _before_save, sender=models.Organisation, dispatch_uid="fp-pre-org"
    )
    post_save.connect(_person_saved, sender=models.Person, dispatch_uid="fp-person")
    post_save.connect(
        _organisation_saved, sender=models.Organisation, dispatch_uid="fp-org"
    )
    pre_save.connect(_before_save, sender=models.Place, dispatch_uid="fp-pre-place")
    post_save.connect(_place_saved, sender=models.Place, dispatch_uid="fp-place")


# --- checking ------------------------------------------------------------------------


def drift(limit: int = 20) -> list[str]:
    """Recompute every footprint in memory and list how the stored one differs (empty
    when it is exact). Read-only."""
    from letters.models import Organisation, Person

    with transaction.atomic():
        expected: dict[tuple[str, int], dict] = {}
        addressee = global_apps.get_model("letters", "Addressee")
        for model, counts, by_role, owner in (
            (Person, PERSON_COUNTS, ADDRESSEE_ROLE_COUNTS, "person"),
            (Organisation, ORGANISATION_COUNTS, {}, "organisation"),
        ):
            membership = global_apps.get_model("letters", "Membership")
            rows = model.objects.annotate(
                **{
                    f"x_{column}": _letter_count(
                        global_apps.get_model("letters", role), owner
                    )
                    for column, role in counts.items()
                },
                **{
                    f"x_{column}": _letter_count(addressee, owner, role=value)
                    for column, value in by_role.items()
                },
                x_public_offices=_office_count(membership, owner),
                **{f"x_{TOTAL}": _total_count(global_apps, model, counts, owner)},
            ).values(
                "pk",
                *(["parent_id"] if model is Organisation else []),
                *[f"x_{c}" for c in [*counts, *by_role]],
                f"x_{TOTAL}",
                "x_public_offices",
                *FOOTPRINT_FIELDS[model.__name__],
            )
            for row in rows:
                expected[(model.__name__, row["pk"])] = row
        direct_orgs = {
            pk for (name, pk), row in expected.items()
            if name == "Organisation" and (
                row["x_public_offices"]
                or any(row[f"x_{c}"] for c in ORGANISATION_COUNTS))
        }  # fmt: skip
        parent = {
            pk: row["parent_id"]
            for (name, pk), row in expected.items()
            if name == "Organisation"
        }
        public_orgs = set(direct_orgs)
        for pk in direct_orgs:
            up = parent.get(pk)
            for _ in range(2):
                if up is None:
                    break
                public_orgs.add(up)
                up = parent.get(up)
        problems = []
        for (name, pk), row in sorted(expected.items()):
            counts = PERSON_COUNTS if name == "Person" else ORGANISATION_COUNTS
            by_role = ADDRESSEE_ROLE_COUNTS if name == "Person" else {}
            want = {
                c: row[f"x_{c}"] for c in [*counts, *by_role, TOTAL, "public_offices"]
            }
            if name == "Person":
                want["is_public"] = any(want[c] for c in [*counts, "public_offices"])
            else:
                want["is_public"] = pk in public_orgs
            for column, value in want.items():
                if row[column] != value:
                    problems.append(
                        f"{name} {pk}: {column} is {row[column]!r}, should be {value!r}"
                    )
                    if len(problems) >= limit:
                        return problems
        return problems
