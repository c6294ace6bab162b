"""Facet counts over a filtered set of letters, like Datasette's: for each facet the
groups with the most letters, as {value, label, count}; `value` is what the matching
filter accepts. Each facet is one aggregate query, whatever the size of the set."""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import ExtractYear

from letters.models import (
    Addressee,
    Issuer,
    Mention,
    Organisation,
    Person,
    Place,
    Signatory,
)
from letters.querysets import unindexed
from letters.vocabularies import LANGUAGES, LetterKind

FACETS = ("kind", "year", "place", "organisation", "language", "person")
KIND_LABELS = dict(LetterKind.choices)
LANGUAGE_LABELS = dict(LANGUAGES)
DEFAULT_SIZE = 10
MAX_SIZE = 100


def _rows(rows, labels=None):
    return [
        {
            "value": str(value),
            "label": str((labels or {}).get(value, value)),
            "count": count,
        }
        for value, count in rows
    ]


def _grouped(queryset, expression_name, size):
    return (
        queryset.order_by()
        .values_list(expression_name)
        .annotate(n=Count("pk"))
        .order_by("-n", expression_name)[:size]
    )


def _union_counts(parts, size):
    """COUNT(*) per entity over UNION (deduplicated entity-letter pairs)."""
    union = parts[0].union(*parts[1:])
    sql, params = union.query.sql_with_params()
    query = (
        f"SELECT entity, COUNT(*) AS n FROM ({sql}) AS pairs "
        f"GROUP BY entity ORDER BY n DESC, entity LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, size])
        return cursor.fetchall()


def _entity_facet(model, parts, size):
    counts = _union_counts(parts, size)
    entities = model.objects.in_bulk([pk for pk, _ in counts])
    out = []
    for pk, count in counts:
        entity = entities[pk]
        label = getattr(entity, "display_name", None) or str(entity)
        out.append({"value": entity.key, "label": label, "count": count})
    return out


def compute(queryset, names, size: int = DEFAULT_SIZE) -> dict[str, list[dict]]:
    letters = queryset.order_by().values("pk")
    out: dict[str, list[dict]] = {}
    for name in names:
        if name in ("kind", "language"):
            labels = KIND_LABELS if name == "kind" else LANGUAGE_LABELS
            out[name] = _rows(_grouped(queryset, name, size), labels)
        elif name == "year":
            rows = (
                queryset.order_by()
                .exclude(date_earliest=None)
                .annotate(facet_year=ExtractYear("date_earliest"))
                .values_list("facet_year")
                .annotate(n=Count("pk"))
                .order_by("-n", "facet_year")[:size]
            )
            out[name] = _rows(rows)
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
            out[name] = [
                {"value": key, "label": label, "count": n} for key, label, n in rows
            ]
        elif name == "organisation":
            parts = [
                model.objects.filter(letter__in=letters, organisation__isnull=False)
                .order_by()
                .annotate(entity=F("organisation_id"))
                .values_list("entity", "letter_id")
                for model in (Issuer, Signatory, Addressee, Mention)
            ]
            out[name] = _entity_facet(Organisation, parts, size)
        elif name == "person":
            parts = [
                model.objects.filter(letter__in=letters, person__isnull=False)
                .order_by()
                .annotate(entity=F("person_id"))
                .values_list("entity", "letter_id")
                for model in (Signatory, Addressee, Mention)
            ]
            out[name] = _entity_facet(Person, parts, size)
    return out
