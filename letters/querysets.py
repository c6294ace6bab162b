"""The read vocabulary of the archive: what is public, and how each public path loads
its rows. Prefetching lives here so that views, serializers and the data package never
trigger queries row by row.

One rule decides visibility everywhere: a letter is public when it is published; a
person, organisation or place is public only through a published letter or a published
office record.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from types import SimpleNamespace

from django.core.exceptions import EmptyResultSet
from django.db import connection, models
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Count,
    Exists,
    Expression,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
)

PUBLISHED = "published"
# Columns a list of letters never shows (nor does a card, letters.cards).
LIST_DEFERRED = (
    "transcription", "search_text", "names_text", "seed_snapshot", "notes",
    "created_at", "updated_at",
)  # fmt: skip
# Fields whose bulk update leaves the cards as they are.
NOT_ON_CARDS = {*LIST_DEFERRED, "status", "synthetic"}


class LetterQuerySet(models.QuerySet):
    def update(self, **kwargs):
        """No signal is sent for a bulk update, so what it moves is refreshed here: a
        status change (publish these letters) moves the public footprint of everyone
        the letters involve, and a change to a field the letters' cards show
        rebuilds their cards (letters.cards)."""
        moves_footprint = "status" in kwargs
        shown = set(kwargs) - NOT_ON_CARDS
        if not moves_footprint and not shown:
            return super().update(**kwargs)
        from django.db import transaction

        from letters import cards, footprint

        with transaction.atomic(using=self.db):
            ids = list(self.values_list("pk", flat=True))
            changed = super().update(**kwargs)
            if moves_footprint:
                footprint.letters_changed(ids)
            if shown:
                cards.rebuild(ids)
        return changed

    def published(self):
        return self.filter(status=PUBLISHED)

    def for_api(self):
        """Published letters with their place; the roles are attached to a page of
        them by attach_roles() in one query, whatever the page size."""
        return self.published().select_related("place")

    def for_api_list(self):
        """As for_api(), without the columns a list never shows: a transcription or
        a history snapshot is the bulk of a row, and JSON snapshots are parsed on
        load (measured at 100k letters: 13 ms of a 70 ms page of 50)."""
        return self.for_api().defer(*LIST_DEFERRED)

    def with_cards(self):
        """With each letter's stored card, and a letter that has one read as a
        letters.cards.Carded (its id and card) rather than built as a Letter: what
        the letters list and its CSV read (letters.cards.CardedLetters)."""
        from letters.cards import CardedLetters

        clone = self.select_related("card")
        clone._iterable_class = CardedLetters
        return clone

    def for_export(self):
        """Published letters in a stable order for the data package."""
        return self.published().order_by("identifier")

    def involving_person(self, person_ids, roles=None):
        """Letters in which any of the persons has any of the roles."""
        return self.filter(person_role_q(person_ids, roles))

    def involving_organisation(self, organisation_ids):
        return self.filter(organisation_role_q(organisation_ids))


ROLE_NAMES = ("signatory", "to", "cc", "addressee", "mentioned", "issuer")


def role_tables(party: str, roles) -> list[tuple[type[models.Model], list[str]]]:
    """The role tables that can hold persons or organisations (`party`: "person" or
    "organisation") in these roles (ROLE_NAMES; "addressee" is to and cc), the most
    likely first (an OR stops at the first), each with the values of its `role`
    column to match (the addressees' to and cc; none for the other tables)."""
    from letters.models import Addressee, Issuer, Mention, Signatory

    roles = set(roles)
    tables = []
    if "signatory" in roles:
        tables.append((Signatory, []))
    addressee_roles = {"to", "cc"} if "addressee" in roles else roles & {"to", "cc"}
    if addressee_roles:
        tables.append((Addressee, sorted(addressee_roles)))
    if "mentioned" in roles:
        tables.append((Mention, []))
    if "issuer" in roles and party == "organisation":
        tables.append((Issuer, []))
    return tables


def role_rows(party: str, ids, roles) -> list[models.QuerySet]:
    """The role rows that name these persons or organisations in these roles, one
    queryset per role table of role_tables, in its order."""
    named = {f"{party}__in": ids}
    return [
        model.objects.filter(**named, role__in=values)
        if values
        else model.objects.filter(**named)
        for model, values in role_tables(party, roles)
    ]


class RoleExists(Expression):
    """True for a letter in which one of these records holds one of these roles:
    one test per role table of role_tables, in its order, OR'ed. A table is tested
    per letter, `EXISTS` as Django writes `Exists(part.filter(letter=OuterRef("pk")))`,
    or, when it is in `listed`, by `IN` over the records' rows in it, which the
    database reads once (SQLite's list subquery, PostgreSQL's hashed subplan) and
    then looks each letter up in.

    The letters filter tests each letter of a narrow date window this way
    (LetterFilter.filter_organisation), listing the role tables where the records'
    stored footprint is at most the window's size. Building four querysets per
    request, resolving them into the filtered query and compiling them again for the
    count and for the page took ~3 ms of the benchmark's letters page at 100k
    letters (17.6-19.3 -> 14.9-16.5 ms in-process); listing an organisation's
    ~200 addressed, mentioned and issued letters instead of probing for each of the
    window's ~2,500 letters, its count 5.1 -> 2.1 ms (docs/benchmarks.md,
    twenty-second session).

    Nesting stays safe: the letter tested is a column of the outer query (its one
    source expression), so Django relabels it with that query when it nests it (a
    later page's ids, the facets), and each subquery names its role table by the
    table's own name, which only the subquery declares and which no letters query
    aliases to."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, party: str, ids, roles, letter="pk", listed=()):
        super().__init__()
        self.party, self.ids, self.roles = party, tuple(ids), tuple(roles)
        self.letter = F(letter) if isinstance(letter, str) else letter
        self.listed = frozenset(listed)

    def get_source_expressions(self):
        return [self.letter]

    def set_source_expressions(self, exprs):
        (self.letter,) = exprs

    def as_sql(self, compiler, connection):
        tables = role_tables(self.party, self.roles)
        if not self.ids or not tables:
            raise EmptyResultSet  # no record, or no role it can hold: no letter
        letter, letter_params = compiler.compile(self.letter)
        quote = connection.ops.quote_name
        marks = ", ".join(["%s"] * len(self.ids))
        tests, params = [], []
        for model, values in tables:
            table = quote(model._meta.db_table)

            def column(name, model=model, table=table):
                return f"{table}.{quote(model._meta.get_field(name).column)}"

            where = [f"{column(self.party)} IN ({marks})"]
            named = [*self.ids]
            if values:
                where.append(f"{column('role')} IN ({', '.join(['%s'] * len(values))})")
                named += values
            if model in self.listed:
                tests.append(
                    f"{letter} IN (SELECT {column('letter')} FROM {table} "
                    f"WHERE ({' AND '.join(where)}))"
                )
                params += [*letter_params, *named]
            else:
                where.append(f"{column('letter')} = ({letter})")
                tests.append(
                    f"EXISTS(SELECT 1 AS {quote('a')} FROM {table} "
                    f"WHERE ({' AND '.join(where)}) LIMIT 1)"
                )
                params += [*named, *letter_params]
        return f"({' OR '.join(tests)})", params


def person_role_q(person_ids, roles=None, field="pk", *, as_set=False) -> Q:
    """Q on letters: one of the persons appears in one of the roles. `field` is the
    letter column tested (see UNINDEXED_PK). One IN per role, OR'ed; `as_set`: one
    IN over their UNION ALL (the same letters, planned as one set: see
    LetterFilter._walk_if_many)."""
    parts = role_rows(
        "person", person_ids, roles or ("signatory", "addressee", "mentioned")
    )
    letters = [part.order_by().values("letter_id") for part in parts]
    lookup = f"{field}__in"
    if as_set and len(letters) > 1:
        return Q(**{lookup: letters[0].union(*letters[1:], all=True)})
    q = Q(pk__in=[])
    for part in letters:
        q |= Q(**{lookup: part})
    return q


# `+id`: the same value, but SQLite no longer drives the query from an IN on it. For a
# person in half the letters, "id IN (their 53,000 letters)" looked up and sorted every
# one of them for a page of 50 (138 ms at 100k); with `+id IN (...)` SQLite walks the
# letters in date order and stops at the page's end (measured in docs/benchmarks.md).
def unindexed(field: str) -> Func:
    """The column's value, with a unary plus no planner can use an index for."""
    return Func(F(field), template="+%(expressions)s", output_field=BigIntegerField())


UNINDEXED_PK = unindexed("pk")


def organisation_role_q(organisation_ids, field: str = "pk") -> Q:
    """Q on letters: the organisation issued, was signed for, received or is named.
    One IN over a UNION: the engines plan it as one set, not four probes per row
    (measured at 100k letters on SQLite: 180 ms instead of 410 ms per query).
    `field` is the letter's id as the filter tests it (pk, or an unindexed alias)."""
    from letters.models import Addressee, Issuer, Mention, Signatory

    parts = [
        model.objects.filter(organisation__in=organisation_ids)
        .order_by()
        .values("letter_id")
        for model in (Issuer, Signatory, Addressee, Mention)
    ]
    return Q(**{f"{field}__in": parts[0].union(*parts[1:])})


# `is_public IN (true)`, not `is_public=True`: Django writes the latter as the bare
# column on SQLite (WHERE "is_public"), which is no equality on the first column of
# the (is_public, sort key…) indexes, so every public row was read and sorted for a
# page. The one-value IN is an equality to both engines: a page walks its index and
# stops (the persons list at 100k letters: 17.9 -> 12.7 ms in-process,
# docs/benchmarks.md).
PUBLIC = Q(is_public__in=[True])


class PersonQuerySet(models.QuerySet):
    def public(self):
        """Persons named in a published letter or holding a published office (the
        stored footprint, kept exact by letters.footprint)."""
        return self.filter(PUBLIC)

    def for_api(self):
        from letters.models import Membership

        return self.public().prefetch_related(
            "identifiers",
            Prefetch(
                "memberships",
                queryset=Membership.objects.published()
                .select_related("organisation", "post", "attested_by")
                .order_by("start_date", "id"),
                to_attr="public_memberships",
            ),
        )


class OrganisationQuerySet(models.QuerySet):
    def public(self):
        """Organisations a published record refers to, and their parents and
        grandparents (so that a public committee can name its parliament)."""
        return self.filter(PUBLIC)

    def for_api(self):
        return self.public().select_related("parent").prefetch_related("identifiers")


class PlaceQuerySet(models.QuerySet):
    """A place is public through its published letters. Both the test and the count
    are correlated on the letters' (place, status) index: a join grouped by place
    read every letter of the archive (588 ms for the list of 34 places at 100k
    letters, 174 ms for one place; 10.7 and 2.3 ms this way,
    docs/benchmarks-history.md); this reads the index entries of the places asked
    for."""

    def _published_letters(self):
        from letters.models import Letter

        return Letter.objects.filter(place=OuterRef("pk"), status=PUBLISHED).order_by()

    def public(self):
        return self.filter(Exists(self._published_letters()))

    def for_api(self):
        count = (
            self._published_letters()
            .values("place")
            .annotate(n=Count("*"))  # COUNT(*): PostgreSQL counts from the index
            .values("n")
        )
        return self.public().annotate(
            letter_count=Subquery(count, output_field=models.IntegerField())
        )


class MembershipQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=PUBLISHED)

    def held_on(self, day: date):
        """Memberships running on that day. Unknown bounds do not count as running:
        a membership with no start is not assumed to have begun."""
        return self.filter(start_date__isnull=False, start_date__lte=day).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=day)
        )

    def for_api(self):
        return self.published().select_related("person", "organisation", "post")


@lru_cache(maxsize=64)
def _roles_sql(vendor: str, count: int) -> tuple[str, tuple]:
    """The SQL of attach_roles' UNION for `count` letters, compiled once per page
    size: building and compiling the four querysets cost more than running them
    (~5 ms of a page of 50). The letter ids are compiled as the placeholders -1 …
    -count, replaced by the page's ids at each call (no other parameter of the
    query is a negative integer)."""
    from django.db.models import CharField, F, IntegerField, Value

    from letters.models import (
        Addressee,
        Issuer,
        Mention,
        Signatory,
    )

    ids = [-(i + 1) for i in range(count)]
    common = [
        "letter_id", "person_id", "person__key", "person__display_name",
        "organisation_id", "organisation__key", "organisation__name",
        "organisation__acronym",
    ]  # fmt: skip

    def part(model, kind, position, role, text, capacity, certainty, note):
        def value(v):
            if isinstance(v, str) and not v.startswith("="):
                return Value(v, output_field=CharField())
            return F(v[1:]) if isinstance(v, str) else v

        qs = model.objects.filter(letter_id__in=ids).order_by()
        qs = qs.annotate(
            r_kind=Value(kind, output_field=CharField()),
            r_position=value(position)
            if position != ""
            else Value(0, output_field=IntegerField()),
            r_role=value(role),
            r_text=value(text),
            r_capacity=value(capacity),
            r_certainty=value(certainty),
            r_note=value(note),
        )
        if model is Issuer:
            qs = qs.annotate(
                person_id_=Value(None, output_field=IntegerField()),
                person_key_=Value(None, output_field=CharField()),
                person_name_=Value(None, output_field=CharField()),
            )
            person_columns = ["person_id_", "person_key_", "person_name_"]
        else:
            person_columns = common[1:4]
        return qs.values_list(
            "r_kind", "id", "r_position", "r_role", "r_text", "r_capacity",
            "r_certainty", "r_note", "letter_id", *person_columns, *common[4:],
        )  # fmt: skip

    union = part(
        Signatory, "s", "=position", "", "=name_as_written", "=capacity",
        "=certainty", "=identification_note",
    ).union(
        part(Addressee, "a", "=position", "=role", "=office_as_written", "",
             "=certainty", "=identification_note"),
        part(Issuer, "i", "", "", "", "", "", ""),
        part(Mention, "m", "", "", "=name_as_written", "", "=certainty",
             "=identification_note"),
        all=True,
    )  # fmt: skip
    return union.query.get_compiler(connection=connection).as_sql()


def attach_roles(letters) -> list:
    """Load the signatories, addressees, issuers and mentions of these letters in ONE
    query (a UNION ALL of the four role tables) and attach them as prefetched
    results, so serializers read them without further queries."""
    from letters.models import (
        Addressee,
        Issuer,
        Mention,
        Signatory,
    )

    letters = list(letters)
    if not letters:
        return letters
    ids = [letter.pk for letter in letters]
    sql, template = _roles_sql(connection.vendor, len(ids))
    params = [ids[-p - 1] if p.__class__ is int and p < 0 else p for p in template]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        union = cursor.fetchall()
    rows: dict[int, dict[str, list]] = {
        pk: {"s": [], "a": [], "i": [], "m": []} for pk in ids
    }
    # Plain attribute records, not model instances: a page can hold thousands of
    # role rows, and the serializers only read attributes.
    people: dict[int, SimpleNamespace] = {}
    bodies: dict[int, SimpleNamespace] = {}
    for (kind, pk, position, role, text, capacity, certainty, note, letter_id,
         person_id, person_key, person_name, org_id, org_key, org_name,
         org_acronym) in union:  # fmt: skip
        person = None
        if person_id is not None:
            person = people.get(person_id) or people.setdefault(
                person_id,
                SimpleNamespace(
                    pk=person_id, id=person_id, key=person_key, display_name=person_name
                ),
            )
        organisation = None
        if org_id is not None:
            organisation = bodies.get(org_id) or bodies.setdefault(
                org_id,
                SimpleNamespace(
                    pk=org_id,
                    id=org_id,
                    key=org_key,
                    name=org_name,
                    acronym=org_acronym,
                ),
            )
        rows[letter_id][kind].append(
            SimpleNamespace(
                pk=pk,
                id=pk,
                letter_id=letter_id,
                position=position,
                role=role,
                name_as_written=text,
                office_as_written=text,
                capacity=capacity,
                certainty=certainty,
                identification_note=note,
                person=person,
                organisation=organisation,
            )
        )
    # Each letter gets its role lists as prefetched querysets. Building them with
    # Model.objects.none() cloned a Query four times per letter (15 ms of a page of
    # 50 at 100k letters); a shallow copy of one empty queryset per model is enough,
    # as nothing filters them further.
    slots = [
        ("signatories", "s", Signatory.objects.none(), _by_position),
        ("addressees", "a", Addressee.objects.none(), _by_position),
        ("issuers", "i", Issuer.objects.none(), _by_organisation_name),
        ("mentions", "m", Mention.objects.none(), _by_pk),
    ]
    for letter in letters:
        found = rows[letter.pk]
        cache = getattr(letter, "_prefetched_objects_cache", None)
        if cache is None:
            cache = letter._prefetched_objects_cache = {}
        for name, kind, empty, key in slots:
            cached = object.__new__(type(empty))
            cached.__dict__.update(empty.__dict__)
            cached._result_cache = sorted(found[kind], key=key)
            cached._prefetch_done = True
            cache[name] = cached
    return letters


def _by_position(role):
    return role.position


def _by_organisation_name(role):
    return (role.organisation.name, role.pk)


def _by_pk(role):
    return role.pk
