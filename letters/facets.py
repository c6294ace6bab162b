"""Facet counts over a filtered set of letters, like Datasette's: for each facet the
groups with the most letters, as {value, label, count}; `value` is what the matching
filter accepts. All the facets asked for are one query, whatever the size of the set."""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Subquery
from django.db.models.functions import ExtractYear

from letters import models
from letters.footprint import PUBLISHED, ROLE_COUNTS, TOTAL
from letters.models import Organisation, Person, Place
from letters.querysets import unindexed
from letters.vocabularies import LANGUAGES, LetterKind

FACETS = ("kind", "year", "place", "organisation", "language", "person")
KIND_LABELS = dict(LetterKind.choices)
LANGUAGE_LABELS = dict(LANGUAGES)
DEFAULT_SIZE = 10
MAX_SIZE = 100
# A filtered set of at least OUTSIDE_FROM letters is counted from the published
# letters outside it when those are no more than outside_bound(its size) (_outside).
OUTSIDE_FROM = 20000


def outside_bound(matched: int) -> int:
    """The most published letters a set of `matched` letters may leave out to have
    its person and organisation facets counted from those: as many as it holds.
    Reading a letter's role rows costs the same inside or out, so the smaller side
    is the cheaper one. At 100k letters on SQLite (docs/benchmarks.md, seventeenth
    session): kind=letter (67,776 in, 29,184 out) person 717 -> 411 ms; one
    person's 53,383 letters (43,577 out) 738 -> 396 ms; but date_after=2016 (44,001
    in, 52,959 out) 483 -> 618 ms, so a larger outside stays counted inside."""
    return matched


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


# facet: (model, role field, the role models whose rows tie it to a letter).
ENTITIES = {
    name: (
        model,
        name,
        [getattr(models, role) for role in ROLE_COUNTS[model.__name__].values()],
    )
    for name, model in (("organisation", Organisation), ("person", Person))
}


def _by_total(model, size) -> tuple[str, list]:
    """(entity, n) of the `size` entities in the most published letters of the whole
    archive, ties by id: their stored total (letters.footprint keeps it exact), read
    from its index. Counting the role rows took 0.9 s at 100k letters on SQLite,
    and ranking from the per-role counts a query more (docs/benchmarks.md)."""
    q = connection.ops.quote_name
    return (
        f"SELECT t.id AS entity, t.{q(TOTAL)} AS n "
        f"FROM {q(model._meta.db_table)} AS t WHERE t.{q(TOTAL)} > 0 "
        f"ORDER BY t.{q(TOTAL)} DESC, t.id LIMIT %s",
        [size],
    )


def _outside(queryset, matched: int, bound: int) -> tuple[str, list]:
    """WITH clause: ``gap``, the published letters less the `matched` letters of the
    set (the set is of published letters: the API lists no other), from the
    status index; and ``outside``, the published letters outside the set, at most
    `bound` + 1 of them, read only when the gap says they are few enough (reading
    them for nothing would cost what counting them saves; the gap costs a few ms)."""
    published = models.Letter.objects.filter(status=PUBLISHED).order_by()
    inside = queryset.order_by()
    if connection.vendor == "sqlite":
        # The set's ids in one in-memory set, built once; the walk stops at the
        # (bound + 1)th letter outside.
        outside = published.exclude(pk__in=inside.values("pk"))
    else:
        # A hash anti-join (NOT IN would hash only within work_mem, and test every
        # letter against the whole list beyond it).
        outside = published.filter(~Exists(inside.filter(pk=OuterRef("pk"))))
    sql, params = outside.values("pk")[: bound + 1].query.sql_with_params()
    count_sql, count_params = published.values("pk").query.sql_with_params()
    return (
        f"WITH gap AS MATERIALIZED (SELECT COUNT(*) - %s AS n FROM ({count_sql}) "
        f"AS p), outside AS MATERIALIZED (SELECT o.pk FROM ({sql}) AS o "
        f"WHERE (SELECT n FROM gap) <= %s) ",
        [matched, *count_params, *params, bound],
    )


def _few_outside(bound: int) -> str:
    """Are the letters outside the set few enough, and all in ``outside``? The gap
    only spares reading them; ``outside`` itself is exact whatever the gap (another
    writer may have published a letter since the set was counted)."""
    return (
        f"((SELECT n FROM gap) <= {bound:d} "
        f"AND (SELECT COUNT(*) FROM outside) <= {bound:d})"
    )


def _by_total_less_outside(model, field, roles, size, bound) -> tuple[str, list]:
    """(entity, n) of the `size` entities in the most letters of a set that holds
    all but the ``outside`` letters: each entity's stored total less its letters
    outside. Every entity of the answer has a total of at least the size-th
    largest total less the number of letters outside (each of the `size` largest
    keeps at least that many), so only those are read when few are outside. The
    search for a very common word at 100k letters reads its few outside letters'
    role rows, not the set's 1.45M (docs/benchmarks.md). Empty unless
    _few_outside(bound) (the caller's other branch counts then)."""
    q = connection.ops.quote_name
    table, total = q(model._meta.db_table), q(TOTAL)
    column = q(f"{field}_id")
    # From each letter outside to its role rows, by their (letter) index: SQLite
    # takes a CROSS JOIN's left table as the outer loop (as a plain join or an IN, it
    # read every role row and tested its letter).
    join = "CROSS JOIN" if connection.vendor == "sqlite" else "JOIN"
    pairs = " UNION ALL ".join(
        f"SELECT r.{column} AS entity, r.letter_id FROM outside AS o {join} "
        f"{q(role._meta.db_table)} AS r ON r.letter_id = o.pk "
        f"WHERE r.{column} IS NOT NULL"
        for role in roles
    )
    size_th = (
        f"COALESCE((SELECT u.{total} FROM {table} AS u "
        f"ORDER BY u.{total} DESC LIMIT 1 OFFSET %s), 0)"
    )
    return (
        f"SELECT t.id AS entity, t.{total} - COALESCE(x.n, 0) AS n "
        f"FROM {table} AS t LEFT JOIN ("
        f"SELECT entity, COUNT(DISTINCT letter_id) AS n FROM ({pairs}) AS pairs "
        f"GROUP BY entity) AS x ON x.entity = t.id "
        f"WHERE t.{total} >= {size_th} - (SELECT COUNT(*) FROM outside) "
        f"AND t.{total} - COALESCE(x.n, 0) > 0 "
        f"ORDER BY n DESC, t.id LIMIT {_unless(f'NOT {_few_outside(bound)}')}",
        [size - 1, size],
    )


def _unless(condition: str) -> str:
    """A LIMIT of %s, or of 0 when `condition` (on no row) holds: with LIMIT 0
    both engines return before reading anything (a WHERE on the same condition
    still had SQLite read the role rows: 368 against 72 ms, docs/benchmarks.md)."""
    return f"CASE WHEN {condition} THEN 0 ELSE %s END"


def _entity_counts(parts, size, unless: str = "") -> tuple[str, list]:
    """Distinct letters per entity over the role tables' (entity, letter) pairs;
    none when `unless` (a condition on no row) holds.

    COUNT(DISTINCT letter_id) over UNION ALL, rather than COUNT(*) over a UNION: the
    same numbers, but the UNION deduplicated every pair of the set in one temporary
    B-tree before grouping (the person facet of the whole archive at 100k letters,
    1.3M pairs: 2.7 -> 0.9 s on SQLite, docs/benchmarks.md)."""
    union = parts[0].union(*parts[1:], all=True)
    sql, params = union.query.sql_with_params()
    limit = _unless(unless) if unless else "%s"
    return (
        f"SELECT entity, COUNT(DISTINCT letter_id) AS n FROM ({sql}) AS pairs "
        f"GROUP BY entity ORDER BY n DESC, entity LIMIT {limit}",
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
    queryset, names, size: int = DEFAULT_SIZE, *, whole_archive: bool = False,
    matched: int | None = None,
) -> dict[str, list[dict]]:  # fmt: skip
    """The facets asked for, all in ONE query (a UNION ALL of one grouped query per
    facet), so a list with facets stays within the API's query budget.
    `whole_archive`: the queryset is every published letter, unfiltered; the
    person and organisation facets then rank by the stored totals. `matched`: the
    set's size, when known (the list's count); a set of at least OUTSIDE_FROM
    letters has its person and organisation facets counted from the letters
    outside it when those are no more than outside_bound(matched)
    (_by_total_less_outside), in the same query."""
    out: dict[str, list[dict]] = {name: [] for name in names}
    if not names or queryset.query.is_empty():
        return out
    q = connection.ops.quote_name
    letters = queryset.order_by().values("pk")
    with_outside = (
        not whole_archive
        and matched is not None
        and matched >= OUTSIDE_FROM
        and any(name in ENTITIES for name in names)
    )
    bound = outside_bound(matched) if with_outside else 0
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
            if whole_archive:
                sql, params = _by_total(model, size)
            else:
                among = {"letter__in": letters, f"{field}__isnull": False}
                pairs = [
                    role.objects.filter(**among)
                    .order_by()
                    .annotate(entity=F(f"{field}_id"))
                    .values_list("entity", "letter_id")
                    for role in roles
                ]
                if with_outside:
                    few, few_params = _by_total_less_outside(
                        model, field, roles, size, bound
                    )
                    many, many_params = _entity_counts(
                        pairs, size, unless=_few_outside(bound)
                    )
                    sql = (
                        f"SELECT entity, n FROM ({few}) AS few UNION ALL "
                        f"SELECT entity, n FROM ({many}) AS many"
                    )
                    params = [*few_params, *many_params]
                else:
                    sql, params = _entity_counts(pairs, size)
            join = f" JOIN {q(model._meta.db_table)} AS e ON e.id = f.entity"
            parts.append(_part(name, sql, params, "e.key", label, extra, "f.entity",
                               join))  # fmt: skip
    if not parts:
        return out
    sql = " UNION ALL ".join(part for part, _ in parts)
    params = [p for _, part_params in parts for p in part_params]
    if with_outside:
        outside, outside_params = _outside(queryset, matched, bound)
        sql, params = outside + sql, [*outside_params, *params]
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
