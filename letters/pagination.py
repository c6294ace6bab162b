"""Page-number pagination with a validated, capped page_size: a bad page_size is a 400
that names the parameter, not a silent fallback."""

import re
from collections import OrderedDict

from django.conf import settings
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


class SetCountPaginator(Paginator):
    """Counts `object_list.set_queryset` when the list has one: the same rows,
    planned for reading them all rather than the first few in order (see
    LetterFilter.filter_queryset); takes `object_list.known_count` as the count when
    the list carries one (a single signatory's stored count, same place).

    A page after the first is read as a "deferred join", still one query: the
    page's ids are found first (`pk IN (SELECT pk … ORDER BY … LIMIT n OFFSET m)`),
    walking only what the ordering and the filters need, and only those rows are
    read whole, from `object_list.page_rows` (the list before its filters, set by
    ArchiveViewSet.filter_queryset: the filters are not evaluated twice). OFFSET
    otherwise reads, and discards, every earlier row with all its columns and
    joins: at 100k letters page 1,000 of the letters took 671 ms on SQLite and 423
    ms on PostgreSQL, 119 and 125 ms this way (docs/benchmarks-history.md). The
    first page stays a plain LIMIT: it has no row to skip, and the filters' own walk
    reads it.
    """

    @cached_property
    def count(self) -> int:
        known = getattr(self.object_list, "known_count", None)
        if known is not None:
            return known
        counted = getattr(self.object_list, "set_queryset", self.object_list)
        return counted.count()

    def page(self, number):
        rows = self.object_list
        source = getattr(rows, "page_rows", None)
        if source is None:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if bottom == 0:
            return self._get_page(rows[bottom:top], number, self)
        ids = rows.values("pk")[bottom:top]
        page = source.filter(pk__in=ids).order_by(*rows.query.order_by)
        return self._get_page(page, number, self)


class ArchivePagination(PageNumberPagination):
    django_paginator_class = SetCountPaginator
    page_size = settings.API_PAGE_SIZE
    max_page_size = settings.API_MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    page_size_query_description = (
        f"Results per page, 1 to {settings.API_MAX_PAGE_SIZE} "
        f"(default {settings.API_PAGE_SIZE})."
    )
    page_query_description = "Page number, from 1. A page past the end is a 404."

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        if not re.fullmatch(r"[0-9]{1,6}", raw) or not (
            1 <= int(raw) <= self.max_page_size
        ):
            raise ValidationError(
                {
                    "page_size": [
                        f"{raw!r} is not a whole number from 1 to {self.max_page_size}."
                    ]
                }
            )
        return int(raw)

    def get_paginated_response(self, data, facets=None):
        body = OrderedDict(
            [
                ("count", self.page.paginator.count),
                ("next", self.get_next_link()),
                ("previous", self.get_previous_link()),
                ("results", data),
            ]
        )
        if facets is not None:
            body["facets"] = facets
        return Response(body)

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["count", "next", "previous", "results"]
        for link in ("next", "previous"):  # OpenAPI 3.1 spelling of nullable
            response["properties"][link] = {
                "type": ["string", "null"],
                "format": "uri",
                "description": f"The {link} page, or null.",
            }
        return response
