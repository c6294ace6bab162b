"""Facet counts over a filtered set of letters, like Datasette's: for each facet the
groups with the most letters, as {value, label, count}; `value` is what the matching
filter accepts. All the facets asked for are one query, whatever the size of the set."""

from __future__ import annotations

from django.db import connection
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, ExtractYear, Greatest

from letters import models
from letters.footprint import PUBLISHED, ROLE_COUNTS, letters_bounds
from letters.models import Organisation, Person, Place
from letters.querysets import unindexed
from letters.vocabularies import LANGUAGES, LetterKind

FACETS = ("kind", "year", "place", "organisation", "language", "person")
KIND_LABELS = dict(LetterKind.choices)
LANGUAGE_LABELS = dict(LANGUAGES)
DEFAULT_SIZE = 10
MAX_SIZE = 100
# Contenders (see _contenders) beyond which a whole-archive facet counts every role
# row instead: they are written into the query as literals, and a floor of one
# letter (an archive where few entities are in more than one) can make most
# entities contenders, past the engines' bound on a statement's parameters.
MAX_CONTENDERS = 1000


class YearOf(ExtractYear):
    """The year of a date. On SQLite, Django's ExtractYear calls a Python function
    for each row (django_date_extract); dates are stored there as ISO text, whose
    first four digits are the year: the whole-archive year facet at 100k letters,
    171 -> 55 ms with the list around it (docs/benchmarks.md)."""

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.lhs)
        return f"CAST(substr({sql}, 1, 4) AS INTEGER)", params


def _grouped(queryset, expression_name, size):
    return (
        queryset.order_by()
        .values_list(expression_name)
        .annotate(n=Count("pk"))
        .order_by("-n", expression_name)[:size]
    )


def _entity_counts(parts, size) -> tuple[str, list]:
    """Distinct letters per entity over the role tables' (entity, letter) pairs.

    COUNT(DISTINCT letter_id) over UNION ALL, rather than COUNT(*) over a UNION: the
    same numbers, but the UNION deduplicated every pair of the set in one temporary
    B-tree before grouping (the person facet of the whole archive at 100k letters,
    1.3M pairs: 2.7 -> 0.9 s on SQLite, docs/benchmarks.md)."""
    union = parts[0].union(*parts[1:], all=True)
    sql, params = union.query.sql_with_params()
    return (
        f"SELECT entity, COUNT(DISTINCT letter_id) AS n FROM ({sql}) AS pairs "
        f"GROUP BY entity ORDER BY n DESC, entity LIMIT %s",
        [*params, size],
    )


# facet: (model, role field, {stored count column: role model}). The role models
# are those the stored footprint counts per role (letters.footprint.ROLE_COUNTS):
# _contenders bounds the facet's counts with them, and _contender_counts starts
# from them.
ENTITIES = {
    name: (
        model,
        name,
        {
            column: getattr(models, role)
            for column, (role, _) in ROLE_COUNTS[model.__name__].items()
        },
    )
    for name, model in (("organisation", Organisation), ("person", Person))
}
if any(where for counts in ROLE_COUNTS.values() for _, where in counts.values()):
    # A facet counts every role row; a stored count of some rows only would
    # neither bound it (_contenders) nor be a part of it (_contender_counts).
    raise RuntimeError("letters.facets assumes unfiltered stored role counts")


def _contender_ids(names, size) -> dict[str, dict[int, str]]:
    """{facet: {contender's id: its largest stored role count's column}} for the
    entity facets asked for, in ONE query. The ids go into the facet query as
    literals: behind a subquery PostgreSQL expected thousands of contenders, not
    ten, and hashed every role row (the person facet at 100k letters: 405 ms; 151
    ms with the literals, docs/benchmarks.md)."""
    parts = []
    for name in names:
        if name not in ENTITIES:
            continue
        model, _field, roles = ENTITIES[name]
        largest = _largest(list(roles))
        parts.append(
            _contenders(model, size)
            .annotate(facet=Value(name), largest=largest)
            .values_list("facet", "pk", "largest")
        )
    out: dict[str, dict[int, str]] = {name: {} for name in names if name in ENTITIES}
    if parts:
        for facet, pk, largest in parts[0].union(*parts[1:], all=True):
            out[facet][pk] = largest
    return out


def _largest(columns: list[str]) -> Case:
    """The name of the largest of these columns (the first of equals), in SQL."""
    return Case(
        *(
            When(
                Q(*(Q(**{f"{column}__gte": F(other)}) for other in columns[i + 1 :])),
                then=Value(column),
            )
            for i, column in enumerate(columns[:-1])
        ),
        default=Value(columns[-1]),
    )


def _contenders(model, size):
    """The persons or organisations that can rank among the `size` in the most
    published letters of the whole archive, from their stored footprint (kept
    exact by letters.footprint: distinct published letters per role).

    An entity is in at least as many letters as in its largest role, and at most
    in the sum of its roles. Let `floor` be the size-th largest "largest role":
    `size` entities have at least `floor` letters, so one whose sum stays below it
    cannot rank, even on a tie. Only the others are counted (_contender_counts):
    for the person facet at 100k letters, about ten persons instead of 1.3M
    pairs (docs/benchmarks.md)."""
    lower, total = letters_bounds(model)
    floor = (
        model.objects.annotate(lower=lower)
        .order_by("-lower")
        .values("lower")[size - 1 : size]
    )
    return (
        model.objects.annotate(total=total)
        .filter(total__gte=Greatest(Coalesce(Subquery(floor), 0), 1))  # none in none
        .order_by()
        .values("pk")
    )


def _contender_counts(name, contenders: dict[int, str], size) -> tuple[str, list]:
    """(entity, n) of the `size` contenders in the most published letters, ties by
    id. Each contender's letters are its largest role's, counted already by its
    stored footprint, plus its other roles' letters missing from that one: only
    those rows are read, each checked by index against the largest role and the
    letter's status (EXISTS, not a join: SQLite drove a join from every published
    letter once the ids were many). The ten largest organisations at 100k letters
    sign for tens of thousands of letters in 240,000 signatures; their ~5,000
    other role rows are read (the facet: 387 -> 45 ms, docs/benchmarks.md)."""
    model, field, roles = ENTITIES[name]
    q = connection.ops.quote_name
    by_largest: dict[str, list[int]] = {}
    for pk, column in sorted(contenders.items()):
        by_largest.setdefault(column, []).append(pk)
    selects, params = [], []
    for column, ids in by_largest.items():
        largest = roles[column]
        published = models.Letter.objects.filter(
            pk=OuterRef("letter"), status=PUBLISHED
        )
        in_largest = largest.objects.filter(
            **{field: OuterRef(field), "letter": OuterRef("letter")}
        )
        pairs = [
            role.objects.filter(**{f"{field}__in": ids})
            .filter(Exists(published), ~Exists(in_largest))
            .order_by()
            .annotate(entity=F(f"{field}_id"))
            .values_list("entity", "letter_id")
            for other, role in roles.items()
            if other != column
        ]
        sql, pairs_params = pairs[0].union(*pairs[1:], all=True).query.sql_with_params()
        marks = ", ".join(["%s"] * len(ids))
        selects.append(
            f"SELECT e.id AS entity, e.{q(column)} + COALESCE(x.n, 0) AS n "
            f"FROM {q(model._meta.db_table)} AS e LEFT JOIN ("
            f"SELECT entity, COUNT(DISTINCT letter_id) AS n FROM ({sql}) AS pairs "
            f"GROUP BY entity) AS x ON x.entity = e.id WHERE e.id IN ({marks})"
        )
        params += [*pairs_params, *ids]
    return (
        f"SELECT entity, n FROM ({' UNION ALL '.join(selects)}) AS c "
        f"ORDER BY n DESC, entity LIMIT %s",
        [*params, size],
    )


def _part(name, sql, params, value, label, extra, order, join=""):
    """One facet as rows (facet, value, label, extra, n, rank) over its grouped
    query `f`; rank (its order: most letters first, then `order`) survives the
    UNION ALL that runs every facet in one query."""
    return (
        f"SELECT %s AS facet, CAST({value} AS TEXT) AS value, "
        f"CAST({label} AS TEXT) AS label, CAST({extra} AS TEXT) AS extra, f.n AS n, "
        f"ROW_NUMBER() OVER (ORDER BY f.n DESC, {order}) AS rank "
        f"FROM ({sql}) AS f{join}",
        [name, *params],
    )


def compute(
    queryset, names, size: int = DEFAULT_SIZE, *, whole_archive: bool = False
) -> dict[str, list[dict]]:
    """The facets asked for, all in ONE query (a UNION ALL of one grouped query per
    facet), so a list with facets stays within the API's query budget.
    `whole_archive`: the queryset is every published letter, unfiltered; the
    person and organisation facets then count only the contenders' letters, found
    by one more query (the whole archive needs no filter probe: still four)."""
    out: dict[str, list[dict]] = {name: [] for name in names}
    if not names or queryset.query.is_empty():
        return out
    q = connection.ops.quote_name
    letters = queryset.order_by().values("pk")
    contenders = _contender_ids(names, size) if whole_archive else {}
    parts = []
    for name in names:
        if name in ("kind", "language"):
            sql, params = _grouped(queryset, name, size).query.sql_with_params()
            column = f"f.{q(name)}"
            parts.append(_part(name, sql, params, column, "NULL", "NULL", column))
        elif name == "year":
            rows = (
                queryset.order_by()
                .exclude(date_earliest=None)
                .annotate(facet_year=YearOf("date_earliest"))
                .values_list("facet_year")
                .annotate(n=Count("pk"))
                .order_by("-n", "facet_year")[:size]
            )
            sql, params = rows.query.sql_with_params()
            parts.append(
                _part(name, sql, params, "f.facet_year", "NULL", "NULL", "f.facet_year")
            )
        elif name == "place":
            # Grouped on the letters' place_id, hidden from the planner by a unary
            # plus (querysets.unindexed), and the place looked up per group:
            # otherwise SQLite walks the place_id index, reading every letter of
            # every place instead of the window's letters (340 -> 18 ms at 100k).
            place = Place.objects.filter(pk=OuterRef("facet_place"))
            rows = (
                queryset.order_by()
                .annotate(facet_place=unindexed("place_id"))
                .filter(facet_place__isnull=False)
                .values("facet_place")
                .annotate(n=Count("pk"))
                .annotate(
                    key=Subquery(place.values("key")[:1]),
                    label=Subquery(place.values("name")[:1]),
                )
                .order_by("-n", "label")
                .values_list("key", "label", "n")[:size]
            )
            sql, params = rows.query.sql_with_params()
            parts.append(
                _part(name, sql, params, "f.key", "f.label", "NULL", "f.label")
            )
        elif name in ENTITIES:
            model, field, roles = ENTITIES[name]
            if name == "organisation":
                label, extra = "e.name", "e.acronym"
            else:
                label, extra = "e.display_name", "NULL"
            ranked = contenders.get(name)
            if ranked is not None and len(ranked) <= MAX_CONTENDERS:
                if not ranked:
                    continue  # no entity is in a published letter
                sql, params = _contender_counts(name, ranked, size)
            else:
                among = {"letter__in": letters, f"{field}__isnull": False}
                pairs = [
                    role.objects.filter(**among)
                    .order_by()
                    .annotate(entity=F(f"{field}_id"))
                    .values_list("entity", "letter_id")
                    for role in roles.values()
                ]
                sql, params = _entity_counts(pairs, size)
            join = f" JOIN {q(model._meta.db_table)} AS e ON e.id = f.entity"
            parts.append(_part(name, sql, params, "e.key", label, extra, "f.entity",
                               join))  # fmt: skip
    if not parts:
        return out
    sql = " UNION ALL ".join(part for part, _ in parts)
    params = [p for _, part_params in parts for p in part_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = sorted(cursor.fetchall(), key=lambda r: (r[0], r[5]))
    for facet, value, label, extra, n, _rank in rows:
        if facet == "kind":
            label = KIND_LABELS.get(value, value)
        elif facet == "language":
            label = LANGUAGE_LABELS.get(value, value)
        elif facet == "year":
            value = label = f"{int(value):04d}"  # as the year filter takes it
        elif facet == "organisation" and extra:
            label = f"{label} ({extra})"
        out[facet].append({"value": value, "label": str(label), "count": n})
    return out
