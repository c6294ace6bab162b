"""The public, read-only API: thin viewsets over the public querysets.

Only published letters, and the persons, organisations and places they involve, are
visible. Every list validates its parameters (an unknown one is a 400, so a typo never
silently returns everything), paginates with a capped page size, and streams CSV.
"""

from __future__ import annotations

import csv
import re

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError

from letters import cards, facets, filters, serializers
from letters.models import (
    Addressee,
    Issuer,
    Letter,
    Membership,
    Mention,
    Organisation,
    Person,
    Place,
    Signatory,
)
from letters.pagination import ArchivePagination
from letters.querysets import PUBLISHED, attach_roles
from letters.renderers import MULTI_SEPARATOR, Echo, cell, names, ref_name
from letters.serializers import DETAIL_LETTERS, LETTER_REF_COLUMNS

FORMAT_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=["json", "csv"],
    description="Response format: json (default) or csv. Browsers (Accept: text/html) "
    "get the browsable HTML API.",
)
ID_PARAMETER = OpenApiParameter(
    "id",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="The record's numeric id (as in its `url`).",
)
CSV_CHUNK = 500


class ArchiveViewSet(viewsets.ReadOnlyModelViewSet):
    """Shared behaviour of the public endpoints."""

    filter_backends = [DjangoFilterBackend]
    pagination_class = ArchivePagination
    csv_columns: list = []
    csv_filename = "export"
    list_parameters: frozenset[str] = frozenset()
    id_pattern = re.compile(r"^[0-9]{1,19}$")
    lookup_value_regex = "[^/]+"
    # GET and HEAD only: OPTIONS would render DRF's metadata through the CSV renderer
    http_method_names = ["get", "head"]

    # -- parameters

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.reject_unknown_parameters(request)

    def known_parameters(self) -> set[str]:
        known = {"format"}
        if self.action == "list":
            known |= {"page", "page_size", *self.list_parameters}
            if self.filterset_class is not None:
                known |= set(self.filterset_class.base_filters)
        return known

    def reject_unknown_parameters(self, request):
        known = self.known_parameters()
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise ValidationError(
                {
                    name: [f"unknown parameter; known: {', '.join(sorted(known))}"]
                    for name in unknown
                }
            )

    def filter_queryset(self, queryset):
        filtered = super().filter_queryset(queryset)
        if isinstance(filtered, QuerySet) and filtered.query.order_by:
            # The paginator reads a page's rows by id from the unfiltered list, in
            # this explicit order (order_by() alone would drop a model's default).
            filtered.page_rows = queryset
        return filtered

    # -- objects

    def get_object(self):
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        if not self.id_pattern.match(value) or (
            self.lookup_field == "pk" and not 1 <= int(value) <= filters.MAX_ID
        ):
            raise ValidationError(
                {
                    self.lookup_field if self.lookup_field != "pk" else "id": [
                        f"{value!r} is not a valid {self.lookup_description}."
                    ]
                }
            )
        return super().get_object()

    lookup_description = "id: a whole number from 1 to 9223372036854775807"

    def csv_records(self, chunk, serializer_class, context):
        """Hook: each row of a chunk as its serialized data (see LetterViewSet)."""
        for obj in chunk:
            yield serializer_class(obj, context=context).data

    def _csv_lines(self, writer, chunk, serializer_class, context, columns):
        for data in self.csv_records(chunk, serializer_class, context):
            yield writer.writerow([cell(get(data)) for _, get in columns])

    # -- CSV

    def list(self, request, *args, **kwargs):
        if request.accepted_renderer.format == "csv":
            return self.stream_csv(self.filter_queryset(self.get_queryset()))
        return super().list(request, *args, **kwargs)

    def stream_csv(self, queryset):
        """Every row of the filtered set, streamed in chunks: memory does not grow
        with the archive."""
        serializer_class = self.get_serializer_class()
        context = self.get_serializer_context()
        columns = self.csv_columns

        def rows():
            writer = csv.writer(Echo(), lineterminator="\n")
            yield writer.writerow([name for name, _ in columns])
            chunk = []
            for obj in queryset.iterator(chunk_size=CSV_CHUNK):
                chunk.append(obj)
                if len(chunk) == CSV_CHUNK:
                    yield from self._csv_lines(
                        writer, chunk, serializer_class, context, columns
                    )
                    chunk = []
            yield from self._csv_lines(
                writer, chunk, serializer_class, context, columns
            )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{self.csv_filename}.csv"'
        )
        return response


def _people(items, role=None):
    return MULTI_SEPARATOR.join(
        (item["person"] or item["organisation"] or {}).get("name", "")
        for item in items
        if role is None or item.get("role") == role
    )


LETTER_CSV = [
    ("identifier", lambda r: r["identifier"]),
    ("url", lambda r: r["url"]),
    ("title", lambda r: r["title"]),
    ("kind", lambda r: r["kind"]),
    ("date", lambda r: r["date"]),
    ("date_as_written", lambda r: r["date_as_written"]),
    ("date_precision", lambda r: r["date_precision"]),
    ("date_certainty", lambda r: r["date_certainty"]),
    ("place", lambda r: ref_name(r["place"])),
    ("language", lambda r: r["language"]),
    ("summary", lambda r: r["summary"]),
    ("to", lambda r: _people(r["addressees"], "to")),
    ("cc", lambda r: _people(r["addressees"], "cc")),
    (
        "signatories",
        lambda r: MULTI_SEPARATOR.join(
            s["person"]["name"]
            if s["person"]
            else f"[unidentified: {s['name_as_written']}]"
            for s in r["signatories"]
        ),
    ),
    (
        "signatories_as_written",
        lambda r: MULTI_SEPARATOR.join(
            " ".join(s["name_as_written"].split()) for s in r["signatories"]
        ),
    ),
    (
        "signed_for",
        lambda r: MULTI_SEPARATOR.join(
            sorted(
                {
                    s["organisation"]["name"]
                    for s in r["signatories"]
                    if s["organisation"]
                }
            )
        ),
    ),
    ("issuing_organisations", lambda r: names(r["issuing_organisations"])),
    (
        "mentioned_persons",
        lambda r: MULTI_SEPARATOR.join(
            m["person"]["name"] for m in r["mentions"] if m["person"]
        ),
    ),
    (
        "mentioned_organisations",
        lambda r: MULTI_SEPARATOR.join(
            m["organisation"]["name"] for m in r["mentions"] if m["organisation"]
        ),
    ),
    ("source_file", lambda r: r["source"]["file"]),
    ("source_sha256", lambda r: r["source"]["sha256"]),
]


class LetterPagination(ArchivePagination):
    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["facets"] = {
            "type": "object",
            "description": "Only when `facets` is given: for each facet asked for, "
            "the largest groups of the filtered set.",
            "additionalProperties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "value": {
                            "type": "string",
                            "description": "What the matching filter accepts.",
                        },
                        "label": {"type": "string"},
                        "count": {"type": "integer", "minimum": 1},
                    },
                    "required": ["value", "label", "count"],
                },
            },
        }
        return response


@extend_schema_view(
    list=extend_schema(
        summary="Published letters",
        description="Filter, search, sort and facet the published letters. CSV "
        "(format=csv) streams every matching letter, one row each; multi-valued "
        f"cells are joined with '{MULTI_SEPARATOR}'.",
        parameters=[
            OpenApiParameter(
                "facets",
                OpenApiTypes.STR,
                description="Comma-separated facets to count over the filtered set: "
                + ", ".join(facets.FACETS),
            ),
            OpenApiParameter(
                "facet_size",
                OpenApiTypes.INT,
                description=f"Groups per facet, 1 to {facets.MAX_SIZE} "
                f"(default {facets.DEFAULT_SIZE}).",
            ),
            FORMAT_PARAMETER,
        ],
    ),
    retrieve=extend_schema(
        summary="One published letter, with its transcription",
        parameters=[FORMAT_PARAMETER],
    ),
)
class LetterViewSet(ArchiveViewSet):
    """Letters, press releases and statements of the archive."""

    lookup_field = "identifier"
    id_pattern = re.compile(r"^[a-z0-9]+(--?[a-z0-9]+)*$")
    lookup_description = "letter identifier (lower-case letters, digits, hyphens)"
    filterset_class = filters.LetterFilter
    pagination_class = LetterPagination
    csv_columns = LETTER_CSV
    csv_filename = "letters"
    list_parameters = frozenset({"facets", "facet_size"})

    def get_queryset(self):
        letters = Letter.objects
        if self.action == "retrieve":
            queryset = letters.for_api()
        else:
            queryset = letters.for_api_list()
            if self.embeds_cards():
                queryset = queryset.with_cards()
        return queryset.order_by("date_earliest", "identifier")

    def embeds_cards(self) -> bool:
        """A page and the CSV stream read the letters' stored cards (letters.cards)."""
        return self.action == "list"

    def csv_records(self, chunk, serializer_class, context):
        """A CSV chunk's letters as a page shows them (page_data: the stored cards,
        parsed once for the columns): the CSV of one person's 24,323 letters at
        100k (32 MB) on SQLite, 51 -> 2 queries and 11.6 -> 5.1 s
        (docs/benchmarks.md). The serializer and context are the view's own."""
        return self.page_data(chunk)

    def page_data(self, letters) -> list:
        """Letters as the list shows them (a page, or a chunk of the CSV stream):
        each stored card as it is, with the request's origin in its URLs, and the
        letters without one serialized live, their roles attached in one query. A
        card is the same serializer's output, so either way the data is the same."""
        origin = cards.origin(self.request)
        live = attach_roles(letter for letter in letters if cards.of(letter) is None)
        serialized = iter(self.get_serializer(live, many=True).data if live else ())
        return [
            next(serialized) if body is None else cards.Card(body, origin)
            for body in map(cards.of, letters)
        ]

    def get_object(self):
        letter = super().get_object()
        attach_roles([letter])
        return letter

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.LetterDetailSerializer
        return serializers.LetterSerializer

    def list(self, request, *args, **kwargs):
        if request.accepted_renderer.format == "csv":
            return super().list(request, *args, **kwargs)
        requested, size = self.facet_request(request)
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        data = self.page_data(page)
        facet_data = None
        if requested:
            everything = getattr(queryset, "whole_archive", False)
            facet_data = facets.compute(
                queryset, requested, size, whole_archive=everything,
                matched=self.paginator.page.paginator.count,
            )  # fmt: skip
        return self.paginator.get_paginated_response(data, facets=facet_data)

    def facet_request(self, request):
        raw = request.query_params.getlist("facets")
        requested = [n.strip() for item in raw for n in item.split(",") if n.strip()]
        unknown = [n for n in requested if n not in facets.FACETS]
        if unknown:
            raise ValidationError(
                {
                    "facets": [
                        f"unknown facet {unknown[0]!r}; known: "
                        f"{', '.join(facets.FACETS)}"
                    ]
                }
            )
        size_raw = request.query_params.get("facet_size", "")
        if size_raw == "":
            size = facets.DEFAULT_SIZE
        elif re.fullmatch(r"[0-9]{1,4}", size_raw) and (
            1 <= int(size_raw) <= facets.MAX_SIZE
        ):
            size = int(size_raw)
        else:
            raise ValidationError(
                {
                    "facet_size": [
                        f"{size_raw!r} is not a whole number from 1 to "
                        f"{facets.MAX_SIZE}."
                    ]
                }
            )
        return list(dict.fromkeys(requested)), size


PERSON_CSV = [
    ("id", lambda r: r["id"]),
    ("key", lambda r: r["key"]),
    ("url", lambda r: r["url"]),
    ("name", lambda r: r["name"]),
    ("sort_name", lambda r: r["sort_name"]),
    ("other_names", lambda r: MULTI_SEPARATOR.join(r["other_names"])),
    ("honorific", lambda r: r["honorific"]),
    ("country", lambda r: r["country"]),
    ("description", lambda r: r["description"]),
    ("wikidata", lambda r: _identifier(r, "wikidata")),
    ("ep_mep", lambda r: _identifier(r, "ep_mep")),
    ("viaf", lambda r: _identifier(r, "viaf")),
    (
        "offices",
        lambda r: MULTI_SEPARATOR.join(
            f"{o['post'] or o['role'] + ', ' + o['organisation']['name']}"
            f" ({o['start'] or '?'}–{o['end']})"
            for o in r["offices"]
        ),
    ),
    ("letters_signed", lambda r: r["letters_signed"]),
    ("letters_received", lambda r: r["letters_received"]),
    ("letters_mentioned_in", lambda r: r["letters_mentioned_in"]),
    ("letters_total", lambda r: r["letters_total"]),
    # After the earlier columns, which keep their places.
    ("letters_addressed", lambda r: r["letters_addressed"]),
    ("letters_copied", lambda r: r["letters_copied"]),
]


def _first_letters(role_model, count: int, **holder):
    """The first published letters (date order) in which a role row names this
    person or organisation, `count` of them in all (the stored footprint): the
    columns a letter reference shows, the letters selected by id from the role rows
    (a join with DISTINCT sorted every one of a prolific signatory's 53,000 letters
    with all their columns). For many letters SQLite walks the letters in date
    order and stops at the hundredth, as the letters list does. That person's page:
    2,897 -> 19 ms at 100k letters (docs/benchmarks-history.md)."""
    letters, field = filters.walk_if_prolific(Letter.objects.published(), count)
    rows = role_model.objects.filter(**holder).values("letter")
    return (
        letters.filter(**{f"{field}__in": rows})
        .only(*LETTER_REF_COLUMNS)
        .order_by("date_earliest", "identifier")[:DETAIL_LETTERS]
    )


def _received(**addressee) -> list:
    """The first published letters received (to or cc) by a person or an
    organisation, each carrying its role."""
    letters = []
    for row in (
        Addressee.objects.filter(**addressee, letter__status=PUBLISHED)
        .select_related("letter")
        .only("role", *(f"letter__{column}" for column in LETTER_REF_COLUMNS))
        .order_by("letter__date_earliest", "letter__identifier", "position")[
            :DETAIL_LETTERS
        ]
    ):
        row.letter.role = row.role
        letters.append(row.letter)
    return letters


def _identifier(row, scheme):
    return next((i["value"] for i in row["identifiers"] if i["scheme"] == scheme), "")


@extend_schema_view(
    list=extend_schema(summary="Public persons", parameters=[FORMAT_PARAMETER]),
    retrieve=extend_schema(
        summary="One person, with the first published letters they signed, "
        "received or are mentioned in",
        parameters=[ID_PARAMETER, FORMAT_PARAMETER],
    ),
)
class PersonViewSet(ArchiveViewSet):
    """Persons who appear in a published letter or hold a published office."""

    filterset_class = filters.PersonFilter
    csv_columns = PERSON_CSV
    csv_filename = "persons"

    def get_queryset(self):
        return Person.objects.for_api().order_by("sort_name", "id")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.PersonDetailSerializer
        return serializers.PersonSerializer

    def get_object(self):
        person = super().get_object()
        person.public_letters = {
            "signed": _first_letters(Signatory, person.letters_signed, person=person),
            "received": _received(person=person),
            "mentioned_in": _first_letters(
                Mention, person.letters_mentioned_in, person=person
            ),
        }
        return person


ORGANISATION_CSV = [
    ("id", lambda r: r["id"]),
    ("key", lambda r: r["key"]),
    ("url", lambda r: r["url"]),
    ("name", lambda r: r["name"]),
    ("acronym", lambda r: r["acronym"]),
    ("other_names", lambda r: MULTI_SEPARATOR.join(r["other_names"])),
    ("kind", lambda r: r["kind"]),
    ("country", lambda r: r["country"]),
    ("parent", lambda r: ref_name(r["parent"])),
    ("wikidata", lambda r: _identifier(r, "wikidata")),
    ("letters_issued", lambda r: r["letters_issued"]),
    ("letters_signed_for", lambda r: r["letters_signed_for"]),
    ("letters_received", lambda r: r["letters_received"]),
    ("letters_mentioned_in", lambda r: r["letters_mentioned_in"]),
    ("letters_total", lambda r: r["letters_total"]),
]


@extend_schema_view(
    list=extend_schema(summary="Public organisations", parameters=[FORMAT_PARAMETER]),
    retrieve=extend_schema(
        summary="One organisation, with the first published letters it is involved in",
        parameters=[ID_PARAMETER, FORMAT_PARAMETER],
    ),
)
class OrganisationViewSet(ArchiveViewSet):
    """Organisations that a published letter or office involves (and their parents)."""

    filterset_class = filters.OrganisationFilter
    csv_columns = ORGANISATION_CSV
    csv_filename = "organisations"

    def get_queryset(self):
        return Organisation.objects.for_api().order_by("name", "id")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.OrganisationDetailSerializer
        return serializers.OrganisationSerializer

    def get_object(self):
        org = super().get_object()
        org.public_letters = {
            "issued": _first_letters(Issuer, org.letters_issued, organisation=org),
            "signed_for": _first_letters(
                Signatory, org.letters_signed_for, organisation=org
            ),
            "received": _received(organisation=org),
            "mentioned_in": _first_letters(
                Mention, org.letters_mentioned_in, organisation=org
            ),
        }
        return org


@extend_schema_view(
    list=extend_schema(summary="Places of writing", parameters=[FORMAT_PARAMETER]),
    retrieve=extend_schema(
        summary="One place", parameters=[ID_PARAMETER, FORMAT_PARAMETER]
    ),
)
class PlaceViewSet(ArchiveViewSet):
    """Places where published letters were written."""

    filterset_class = filters.PlaceFilter
    serializer_class = serializers.PlaceSerializer
    csv_columns = [
        (name, lambda r, name=name: r[name])
        for name in ("id", "key", "url", "name", "country", "wikidata", "letter_count")
    ]
    csv_filename = "places"

    def get_queryset(self):
        return Place.objects.for_api().order_by("name", "id")


OFFICE_CSV = [
    ("id", lambda r: r["id"]),
    ("url", lambda r: r["url"]),
    ("person", lambda r: r["person"]["name"]),
    ("person_key", lambda r: r["person"]["key"]),
    ("organisation", lambda r: r["organisation"]["name"]),
    ("organisation_key", lambda r: r["organisation"]["key"]),
    ("post", lambda r: r["post"]),
    ("role", lambda r: r["role"]),
    ("start", lambda r: r["start"]),
    ("end", lambda r: r["end"]),
    ("attested_by", lambda r: (r["attested_by"] or {}).get("identifier", "")),
    ("source_note", lambda r: r["source_note"]),
]


@extend_schema_view(
    list=extend_schema(
        summary="Offices and memberships over time", parameters=[FORMAT_PARAMETER]
    ),
    retrieve=extend_schema(
        summary="One office or membership", parameters=[ID_PARAMETER, FORMAT_PARAMETER]
    ),
)
class OfficeViewSet(ArchiveViewSet):
    """Who held which post, or belonged to which body, from when to when."""

    filterset_class = filters.OfficeFilter
    serializer_class = serializers.OfficeSerializer
    csv_columns = OFFICE_CSV
    csv_filename = "offices"

    def get_queryset(self):
        return (
            Membership.objects.for_api()
            .select_related("attested_by")
            .order_by("person__sort_name", "start_date", "id")
        )
