"""The API's query vocabulary. Filter names are the public contract: each is
explicit, documented (help_text reaches the OpenAPI schema) and validated, so bad input
gives a 400 that names the parameter.

Several values of one filter, comma-separated or repeated, mean OR. Persons,
organisations and places are given by numeric id or by key (``laurent-fabius``).
"""

from __future__ import annotations

import copy
import re
from datetime import date, timedelta
from typing import NamedTuple

import django_filters as filters
from django import forms
from django.db import connection
from django.db.models import Q
from django.http import QueryDict
from django_filters.constants import EMPTY_VALUES
from django_filters.filters import FilterMethod
from drf_spectacular.utils import extend_schema_field

from letters import dates
from letters.footprint import role_footprint_sql
from letters.models import Letter, Membership, Organisation, Person, Place
from letters.querysets import (
    PUBLISHED,
    UNINDEXED_PK,
    RoleExists,
    organisation_role_q,
    person_role_q,
    role_rows,
    role_tables,
)
from letters.text import fold
from letters.vocabularies import (
    LANGUAGES,
    AddresseeRole,
    LetterKind,
    OrganisationKind,
)

ASCII_DIGITS = re.compile(r"[0-9]+")  # not str.isdigit(): "²" is a digit too
MAX_ID = 2**63 - 1  # the largest bigint: larger ids cannot exist on any engine
KEY_RE = re.compile(r"^[a-z0-9]+(--?[a-z0-9]+)*$")
ROLE_CHOICES = [
    ("signatory", "signed (persons) or was signed for (organisations)"),
    ("to", "addressed (to)"),
    ("cc", "received a copy (cc)"),
    ("addressee", "to or cc"),
    ("mentioned", "named in the text"),
    ("issuer", "issued the document (organisations)"),
]
MAX_VALUES = 100
MAX_SEARCH_TERMS = 10
# Letters in a date window below which an organisation filter tests each letter.
NARROW_WINDOW = 5000
# Letters (in the roles filtered on: footprint.role_footprint_sql) above which a person
# or organisation filter walks the letters in order instead of fetching all of that
# record's letters (see walk_if_prolific, and LetterFilter._walk_if_many for
# PostgreSQL).
PROLIFIC = 2000
# A walked list (above) is also counted by walking when its date window holds fewer
# than this many letters per letter of the record's footprint; otherwise by reading
# the record's letters by index. At 100k letters on SQLite a count reads ~2.5 us per
# letter of the record by index and ~0.3 us per letter of the window by walking, and
# the probe that sizes the window costs another ~0.3 us per letter (break-even at
# 3.1-4.9 by footprint, measured again in the nineteenth session: docs/benchmarks.md).
WALK_COUNT_RATIO = 3


def walk_if_prolific(letters, count: int):
    """(letters, the letter id field to test them on). For records in more than
    PROLIFIC letters (`count`, their stored footprint) SQLite is told to walk the
    letters in order and test each id against the record's letters, the id hidden
    from the planner (scan_pk), rather than fetch and sort all of them for the
    first rows of a page (docs/benchmarks.md)."""
    if connection.vendor == "sqlite" and count > PROLIFIC:
        return letters.alias(scan_pk=UNINDEXED_PK), "scan_pk"
    return letters, "pk"


class WindowProbe(NamedTuple):
    size: int  # letters in the window, counted up to NARROW_WINDOW + 1 (or further:
    # up to WALK_COUNT_RATIO times the footprint filtered on, see _walk_count_cap)
    earliest: date | None  # the earliest start among them (None: the window is empty)


class StableOrderingFilter(filters.OrderingFilter):
    """Sort by the fields asked for, then by the list's own order (which ends in a
    unique key): among ties, pages neither repeat nor skip a record."""

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        asked = [self.get_ordering_value(p) for p in value if p not in EMPTY_VALUES]
        names = {field.lstrip("-") for field in asked}
        rest = [f for f in qs.query.order_by if str(f).lstrip("-") not in names]
        return qs.order_by(*asked, *rest)


class MultiValueWidget(forms.TextInput):
    """Reads a parameter given several times and/or as comma-separated values (and
    renders as one text box in the browsable API's filter form)."""

    def format_value(self, value):
        if isinstance(value, list | tuple):
            return ",".join(str(v) for v in value)
        return super().format_value(value)

    def value_from_datadict(self, data, files, name):
        raw = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        values = [
            part.strip()
            for item in raw
            if item is not None
            for part in str(item).split(",")
            if part.strip()
        ]
        return values or None


class MultipleChoiceField(forms.MultipleChoiceField):
    """Its choices are a tuple, so each form shares them rather than deep-copying
    them as Django's ChoiceField does (the languages alone are ~180 pairs: most of
    what was left of building a letters filter form: 0.43-0.47 -> 0.28 ms). A form may
    still replace its field's choices; it cannot change the shared tuple."""

    widget = MultiValueWidget

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._choices = self.widget.choices = tuple(self._choices)

    def __deepcopy__(self, memo):
        result = forms.Field.__deepcopy__(self, memo)  # widget, messages, validators
        result._choices = self._choices
        return result

    def clean(self, value):
        if value and len(value) > MAX_VALUES:
            raise forms.ValidationError(f"at most {MAX_VALUES} values")
        return super().clean(value)


class RefListField(forms.Field):
    """Numeric ids (1 to 2^63-1) or keys; returns (ids, keys)."""

    widget = MultiValueWidget

    def to_python(self, value):
        if not value:
            return None
        if len(value) > MAX_VALUES:
            raise forms.ValidationError(f"at most {MAX_VALUES} values")
        ids, keys = [], []
        for item in value:
            if ASCII_DIGITS.fullmatch(item):
                number = int(item) if len(item) <= 20 else MAX_ID + 1
                if not 1 <= number <= MAX_ID:
                    raise forms.ValidationError(
                        f"{item!r} is out of range: ids run from 1 to {MAX_ID}"
                    )
                ids.append(number)
            elif KEY_RE.match(item):
                keys.append(item)
            else:
                raise forms.ValidationError(
                    f"{item!r} is neither a numeric id nor a key such as "
                    "'laurent-fabius'"
                )
        return ids, keys


class PartyRefListField(RefListField):
    """Keys of persons or organisations. A numeric id is refused: persons and
    organisations are numbered apart, so one id may name a person and an
    organisation at once, and a list of "either" would silently hold both. A key
    names one party: persons and organisations share one key space
    (letters.models.PartyKey)."""

    def __init__(self, *args, parameter: str, **kwargs):
        self.parameter = parameter
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        refs = super().to_python(value)
        if refs and refs[0]:
            number, role = refs[0][0], self.parameter  # role: addressee or cc
            raise forms.ValidationError(
                f"{number!r} is a numeric id, which can name both a person and an "
                "organisation: give a key such as 'laurent-fabius', or the id as "
                f"person={number}&role={role} or organisation={number}&role={role}"
            )
        return refs


class PartialDateField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return dates.parse(value)
        except dates.PartialDateError as exc:
            raise forms.ValidationError(str(exc)) from exc


class YearListField(forms.Field):
    widget = MultiValueWidget

    def to_python(self, value):
        if not value:
            return None
        years = []
        for item in value:
            if not re.fullmatch(r"\d{4}", item) or item == "0000":
                raise forms.ValidationError(f"{item!r} is not a year (YYYY)")
            years.append(int(item))
        return years


class CountryField(forms.Field):
    widget = MultiValueWidget

    def to_python(self, value):
        if not value:
            return None
        codes = [code.upper() for code in value]
        for code in codes:
            if not re.fullmatch(r"[A-Z]{2}", code):
                raise forms.ValidationError(
                    f"{code!r} is not a two-letter ISO 3166-1 country code"
                )
        return codes


@extend_schema_field({"type": "string", "example": "FR"})
class CountryFilter(filters.Filter):
    field_class = CountryField

    def filter(self, qs, value):
        return qs.filter(country__in=value) if value else qs


@extend_schema_field(
    {"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$", "example": "2015-05"}
)
class PartialDateFilter(filters.Filter):
    field_class = PartialDateField


@extend_schema_field({"type": "string", "example": "2015,2016"})
class YearFilter(filters.Filter):
    field_class = YearListField


class MultipleChoiceFilter(filters.MultipleChoiceFilter):
    """Without django-filter's default DISTINCT: every choice filter here tests a
    column of the listed records (or runs a method), so no join can repeat a row,
    and a DISTINCT over every column made the count of `kind=press_release` sort
    the whole archive (with the (status, kind) index: 140 -> 7.3 ms at 100k
    letters, docs/benchmarks.md)."""

    field_class = MultipleChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "string", "example": "laurent-fabius"})
class RefFilter(filters.Filter):
    field_class = RefListField


class PartyRefFilter(RefFilter):
    """A person or an organisation, by key (PartyRefListField; pass `parameter`,
    the filter's own name, for its error message)."""

    field_class = PartyRefListField


def _named(model, value):
    """The records these ids and keys name."""
    ids, keys = value
    return model.objects.filter(Q(pk__in=ids) | Q(key__in=keys))


def _refs(model, value):
    return _named(model, value).values("pk")


def _named_sql(model, value, columns: str) -> tuple[str, list]:
    """`columns` (SQL on the model's table) of the records these ids and keys name:
    _named written out, for the probe's scalar subqueries (LetterFilter._run_probes:
    building and compiling their querysets was ~0.35 ms of a request with one
    organisation, docs/benchmarks.md, twenty-second session)."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    ids, keys = value
    tests, params = [], []
    for column, values in ((model._meta.pk.column, ids), ("key", keys)):
        if values:
            marks = ", ".join(["%s"] * len(values))
            tests.append(f"{table}.{quote(column)} IN ({marks})")
            params += values
    where = " OR ".join(tests) or "1 = 0"
    return f"SELECT {columns} FROM {table} WHERE {where}", params


def _ids_sql(model, value) -> tuple[str, list]:
    """A scalar subquery: the ids of the records these ids and keys name, joined
    by commas (NULL when none exists)."""
    quote = connection.ops.quote_name
    pk = f"{quote(model._meta.db_table)}.{quote(model._meta.pk.column)}"
    sql, params = _named_sql(model, value, f"{pk} AS pk")
    joined = (
        "group_concat(t.pk, ',')"
        if connection.vendor == "sqlite"
        else "string_agg(t.pk::text, ',')"
    )
    return f"(SELECT {joined} FROM ({sql}) AS t)", params


def _letter_column(name: str) -> str:
    """A column of the letters table, quoted and qualified as the ORM writes it."""
    quote = connection.ops.quote_name
    column = Letter._meta.get_field(name).column
    return f"{quote(Letter._meta.db_table)}.{quote(column)}"


def search_terms(value: str) -> list[str]:
    terms = fold(value).split()
    if len(terms) > MAX_SEARCH_TERMS:
        raise forms.ValidationError(f"at most {MAX_SEARCH_TERMS} words")
    return terms


class SearchField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        if len(value) > 200:
            raise forms.ValidationError("at most 200 characters")
        if "\x00" in value:
            raise forms.ValidationError("contains a NUL character")
        return search_terms(value) or None


@extend_schema_field({"type": "string", "maxLength": 200, "example": "fabius"})
class SearchFilter(filters.Filter):
    field_class = SearchField


class ArchiveFilterSet(filters.FilterSet):
    """django-filter's FilterSet, without rebuilding per request what is the same
    for every request. django-filter deep-copies every filter of the class for each
    FilterSet (choices, help texts and all) and builds a new form class from them,
    labels looked up again: 1.4-1.7 ms of the letters page's ~22 ms, 0.43-0.47 ms
    this way (docs/benchmarks.md, twenty-first session). Here each filter is copied
    shallowly, its per-request state (parent, model, the method bound to this
    FilterSet) set on the copy, and the form class is built once per FilterSet
    class. A form instance still copies its fields deeply, as Django forms do (only
    the immutable choices are shared: MultipleChoiceField), so nothing a request
    does to its form reaches another request."""

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        # django-filter 26.2's BaseFilterSet.__init__, its deep copy replaced
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {
            name: self._own_copy(base, queryset.model)
            for name, base in self.base_filters.items()
        }

    def _own_copy(self, base, model):
        own = copy.copy(base)
        if isinstance(own.__dict__.get("filter"), FilterMethod):
            own.filter = FilterMethod(own)  # resolves `method` on this FilterSet
        own.model, own.parent = model, self
        return own

    def get_form_class(self):
        cls = type(self)
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            # The fields depend on the class only (no filter here takes its
            # choices from the request); a race builds the same class twice.
            form_class = super().get_form_class()
            cls._form_class = form_class
        return form_class


class LetterFilter(ArchiveFilterSet):
    date_after = PartialDateFilter(
        method="filter_date_after",
        help_text="Letters that may be dated on or after this partial date (YYYY, "
        "YYYY-MM or YYYY-MM-DD). Overlap: a letter dated 2015-05 matches "
        "date_after=2015-05-20.",
    )
    date_before = PartialDateFilter(
        method="filter_date_before",
        help_text="Letters that may be dated on or before this partial date (to its "
        "last day: date_before=2015-05 includes 31 May).",
    )
    year = YearFilter(
        method="filter_year",
        help_text="Letters whose date overlaps one of these years (YYYY, several "
        "allowed).",
    )
    kind = MultipleChoiceFilter(
        choices=LetterKind.choices, help_text="Kind of document (OR)."
    )
    exclude_kind = MultipleChoiceFilter(
        field_name="kind",
        choices=LetterKind.choices,
        exclude=True,
        help_text="Leave out these kinds.",
    )
    language = MultipleChoiceFilter(
        choices=LANGUAGES, help_text="ISO 639-1 language code (OR)."
    )
    place = RefFilter(
        method="filter_place", help_text="Place of writing: id or key (OR)."
    )
    person = RefFilter(
        method="filter_person",
        help_text="Letters involving any of these persons (id or key), in any role "
        "or in the roles given by `role`.",
    )
    role = MultipleChoiceFilter(
        choices=ROLE_CHOICES,
        method="filter_noop",
        help_text="Restricts `person` and `organisation` to these roles: signatory, "
        "to, cc, addressee (to or cc), mentioned, issuer.",
    )
    exclude_person = RefFilter(
        method="filter_exclude_person",
        help_text="Leave out letters involving these persons (in `role` if given).",
    )
    signatory = RefFilter(
        method="filter_signatory", help_text="Signed by any of these persons."
    )
    addressee = PartyRefFilter(
        method="filter_addressee",
        parameter="addressee",
        help_text="Addressed (to or cc) to any of these persons or organisations, by "
        "key (a key names one of them; an id could name one of each: use person= "
        "or organisation= with role=addressee).",
    )
    cc = PartyRefFilter(
        method="filter_cc",
        parameter="cc",
        help_text="With any of these persons or organisations in copy (cc), by key "
        "(for an id: person= or organisation= with role=cc).",
    )
    organisation = RefFilter(
        method="filter_organisation",
        help_text="Involving any of these organisations in any role: issuer, signed "
        "for, addressee, mentioned (or in the roles given by `role`).",
    )
    exclude_organisation = RefFilter(
        method="filter_exclude_organisation",
        help_text="Leave out letters involving these organisations.",
    )
    search = SearchFilter(
        method="filter_search",
        help_text="Free text over title, summary, transcription and the names of "
        "everyone involved; accent- and case-insensitive; every word must match.",
    )
    ordering = StableOrderingFilter(
        fields=(
            ("date_earliest", "date"),
            ("title", "title"),
            ("identifier", "identifier"),
        ),
        help_text="Sort by date, title or identifier; prefix with - to reverse.",
    )

    class Meta:
        model = Letter
        fields: list[str] = []

    # -- filter methods

    def filter_noop(self, queryset, name, value):
        return queryset  # read by filter_person / filter_organisation

    def _roles(self):
        return self.form.cleaned_data.get("role") or None

    def filter_date_after(self, queryset, name, value):
        return queryset.filter(date_latest__gte=value.earliest)

    def filter_date_before(self, queryset, name, value):
        return queryset.filter(date_earliest__lte=value.latest)

    def filter_year(self, queryset, name, value):
        q = Q()
        for year in value:
            # Date bounds, not EXTRACT(year): the date-window index answers them
            # (on SQLite EXTRACT is a Python function called for every letter).
            q |= Q(
                date_earliest__lte=date(year, 12, 31),
                date_latest__gte=date(year, 1, 1),
            )
        return queryset.filter(q)

    def filter_place(self, queryset, name, value):
        return queryset.filter(place__in=self._ids(Place, value))

    def _person_q(self, value, roles=None):
        return person_role_q(self._ids(Person, value), roles)

    def _involving(self, queryset, value, roles):
        """Letters involving these persons. For persons in many letters the letters
        are walked in order and tested for membership rather than all their
        letters fetched and sorted; the stored footprint tells which
        (_walk_if_many). The walk suits the first rows of a page, not the whole
        set: on SQLite counts and facets (filter_queryset's set_queryset) fetch the
        letters by index."""
        queryset, field, walk = self._walk_if_many(queryset, Person, value, roles)
        return queryset.filter(
            person_role_q(
                self._ids(Person, value), roles, field, as_set=self._as_set(walk)
            )
        )

    def _as_set(self, walk: bool) -> bool:
        """Write a person filter as one set (IN over the roles' UNION ALL) rather
        than OR'ed INs? Not for a walk (_walk_if_many), nor for SQLite's count of a
        walked list (its index plan reads the OR'ed INs). On SQLite, not either when
        the date window holds fewer than WALK_COUNT_RATIO letters per letter of the
        footprint (_count_by_walk): SQLite then walks the window's covering index
        and tests each letter, which is cheaper than fetching all the person's
        letters by id. Otherwise the set drives the query: a person in 27 letters
        with a 2010-2016 window, 32.2 -> 12.8 ms at 100k on SQLite, where SQLite
        had walked the whole window (docs/benchmarks.md)."""
        if walk or self._for_set:
            return False
        return connection.vendor != "sqlite" or not self._count_by_walk()

    def _walk_if_many(self, queryset, model, value, roles=None):
        """(queryset, the letter id field to test, walk?) for the records this value
        names in these roles, by their stored footprint (more than PROLIFIC
        letters: walk).

        - SQLite: walk_if_prolific (the id hidden from the planner), except when
          the set is being counted: a walked list is counted by index instead
          (set_queryset, see filter_queryset).
        - PostgreSQL walks the letters' date index by itself when a record's
          roles are OR'ed IN subqueries (each hashed once), and fetches the
          letters by id when they are one IN over a UNION ALL: the filter writes
          the first for prolific records and the second for the rest. Either
          way round it was 10-100 times slower at 100k letters (the page's SQL):
          27 letters of a person through the walk, 155 ms against 1.6 ms; the
          35,000 letters of the largest organisation fetched and sorted, 169 ms
          against 19 ms (docs/benchmarks-history.md). Counts take the same form: the
          walk's hashed subqueries count a prolific record's letters as fast
          (45-48 ms against 36-100 ms), so PostgreSQL has no set_queryset."""
        if self._for_set:
            return queryset, "pk", False
        footprint = self._footprint(model, value, roles)
        if connection.vendor != "sqlite":
            return queryset, "pk", footprint > PROLIFIC
        queryset, field = walk_if_prolific(queryset, footprint)
        self._walks = self._walks or field != "pk"
        return queryset, field, field != "pk"

    @staticmethod
    def _value_key(value) -> tuple:
        ids, keys = value
        return (tuple(ids), tuple(keys))

    @staticmethod
    def _footprint_sql(model, value, roles=None) -> tuple[str, list]:
        """A scalar subquery: the stored footprint of these persons or
        organisations in these roles (footprint.role_footprint_sql: their published
        letters, exact for one record and one role or none), summed.

        The sum of every role's count had been used whatever the roles asked
        for: a minister addressed in 5,000 letters who signed 3 counted as
        prolific for `signatory=`, and SQLite walked the whole archive to find 3."""
        count = role_footprint_sql(model, roles)
        sql, params = _named_sql(model, value, f"{count} AS footprint")
        return f"(SELECT COALESCE(SUM(t.footprint), 0) FROM ({sql}) AS t)", params

    def _footprint_key(self, model, value, roles) -> tuple:
        return (model, self._value_key(value), tuple(sorted(roles or ())))

    def _footprint(self, model, value, roles=None) -> int:
        return self._footprints[self._footprint_key(model, value, roles)]

    def _window(self) -> tuple[date | None, date | None]:
        """The date window asked for: date_after/date_before, narrowed by a single
        year (several years are an OR of windows, left to filter_year)."""
        data = self.form.cleaned_data
        after, before = data.get("date_after"), data.get("date_before")
        start = after.earliest if after is not None else None
        end = before.latest if before is not None else None
        years = data.get("year") or []
        if len(years) == 1:
            first, last = date(years[0], 1, 1), date(years[0], 12, 31)
            start = first if start is None else max(start, first)
            end = last if end is None else min(end, last)
        return start, end

    def _window_probe(self) -> WindowProbe | None:
        """The window's size (read up to NARROW_WINDOW + 1 letters) and the earliest
        start among its letters, in one query, or None without a window.

        A window [a, b] is "starts before b and ends after a", and one B-tree on the
        start walks every letter that starts before b (~45,000 index entries for a
        2015 window at 100k letters, to count 2,500). Per precision a letter spans
        at most dates.MAX_SPAN days, so on letter_precision_dates the window is four
        short ranges; the earliest start it finds bounds every later query of the
        request from below (filter_queryset), so the count and the page walk the
        window, not the archive's past.
        """
        return self._probe  # run with the other probes by _run_probes

    def _window_probe_sql(
        self, cap: tuple[str, list] | None = None
    ) -> list[tuple[str, list]] | None:
        """The window probe's five scalar subqueries (see _window_probe). The size
        is read up to NARROW_WINDOW + 1 letters, or up to `cap` (an SQL expression
        and its parameters) when that is larger: see _count_by_walk.

        Written out rather than built through the ORM: the SQL is the ORM's, column
        for column (the model's own table and column names), and building five
        querysets per request and compiling them cost 1.15-1.2 ms of the letters
        page's ~22 ms, 0.06-0.08 ms this way (docs/benchmarks.md, twenty-first
        session)."""
        start, end = self._window()
        if start is None and end is None:
            return None
        column, value = _letter_column, connection.ops.adapt_datefield_value
        conditions, args = [f"{column('status')} = %s"], [PUBLISHED]
        if start is not None:
            conditions.append(f"{column('date_latest')} >= %s")
            args.append(value(start))
        if end is not None:
            conditions.append(f"{column('date_earliest')} <= %s")
            args.append(value(end))
        ranges = []  # per precision: one range of letter_precision_dates
        for precision in (*dates.MAX_SPAN, dates.RANGE):
            span = dates.MAX_SPAN.get(precision)
            one, one_args = [f"{column('date_precision')} = %s"], [precision]
            if start is not None and span is not None:
                # start - span, never before 0001-01-01
                lowest = max(start, date.min + timedelta(days=span))
                one.append(f"{column('date_earliest')} >= %s")
                one_args.append(value(lowest - timedelta(days=span)))
            ranges.append((one, one_args))
        table = connection.ops.quote_name(Letter._meta.db_table)
        window = " AND ".join(conditions)
        any_range = " OR ".join(f"({' AND '.join(one)})" for one, _ in ranges)
        limit, limit_args = f"{NARROW_WINDOW + 1}", []
        if cap is not None:
            limit, limit_args = f"max({NARROW_WINDOW + 1}, {cap[0]})", cap[1]
        size = (
            f"(SELECT COUNT(*) FROM (SELECT {column('id')} FROM {table} "
            f"WHERE {window} AND ({any_range}) LIMIT {limit}) w)"
        )
        any_args = [a for _, one_args in ranges for a in one_args]
        out = [(size, [*args, *any_args, *limit_args])]
        for one, one_args in ranges:
            out.append(
                (
                    f"(SELECT {column('date_earliest')} FROM {table} "
                    f"WHERE {' AND '.join([*conditions, *one])} "
                    f"ORDER BY {column('date_earliest')} LIMIT 1)",
                    [*args, *one_args],
                )
            )
        return out

    @staticmethod
    def _window_result(values) -> WindowProbe:
        size, *firsts = values
        firsts = [
            date.fromisoformat(f) if isinstance(f, str) else f
            for f in firsts
            if f is not None
        ]
        return WindowProbe(size, min(firsts) if firsts else None)

    def _run_probes(self) -> None:
        """Every plan decision this request needs (the date window's size and first
        letter, the footprint of filtered persons, whether a searched word is
        common) and the ids its person, organisation and place filters name, from
        ONE query of scalar subqueries, each bounded: with the count, the page, the
        roles and the facets, a list stays within five queries.

        Ids are resolved here so that the later queries carry them as literals: a
        subquery hides from PostgreSQL who is asked for, and it estimated 56 letters
        for a person who signed 30,000 (and planned 30,000 lookups and a sort for a
        page of 50: 155 ms; 3-5 ms with the id written in, docs/benchmarks.md)."""
        data = self.form.cleaned_data
        self._probe, self._footprints, self._search = None, {}, None
        self._signed = None
        self._resolved: dict[tuple, list[int]] = {}
        pieces: list[tuple[str, list]] = []
        readers = []  # (number of values, what to do with them), in pieces' order
        footprints = []  # (model, value, roles, its footprint's scalar subquery)
        for name, model, roles in (
            ("person", Person, self._roles()),
            ("signatory", Person, ["signatory"]),
            ("organisation", Organisation, self._roles()),
        ):
            if data.get(name):
                sql = self._footprint_sql(model, data[name], roles)
                footprints.append((model, data[name], roles, sql))
        walk_counts = connection.vendor == "sqlite"  # see _count_by_walk
        window = self._window_probe_sql(
            self._walk_count_cap(footprints) if walk_counts else None
        )
        if window is not None:
            pieces += window
            readers.append((len(window), self._read_window))
        for name, models in REF_FILTERS.items():
            if data.get(name):
                for model in models:
                    pieces.append(_ids_sql(model, data[name]))
                    readers.append((1, self._resolution(model, data[name])))
        for model, value, roles, sql in footprints:
            pieces.append(sql)
            readers.append((1, self._footprint_reader(model, value, roles)))
        self._table_footprints: dict[type, int] = {}
        if window is not None and data.get("organisation"):  # see filter_organisation
            for table, roles in self._organisation_tables():
                pieces.append(
                    self._footprint_sql(Organisation, data["organisation"], roles)
                )
                readers.append((1, self._table_footprint_reader(table)))
        if self._only("signatory"):
            pieces.append(self._signed_sql(data["signatory"]))
            readers.append((1, self._read_signed))
        if data.get("search") and not any(data.get(f) for f in DRIVING_FILTERS):
            from letters.search import common_probe, tokens

            words = tokens(data["search"])
            if words:
                pieces.append(common_probe(words))
                readers.append((1, self._read_search))
        if not pieces:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join(sql for sql, _ in pieces),
                [p for _, params in pieces for p in params],
            )
            values = list(cursor.fetchone())
        for count, read in readers:
            read(values[:count])
            values = values[count:]

    @staticmethod
    def _walk_count_cap(footprints) -> tuple[str, list] | None:
        """How far the window probe reads when a record filter may walk: up to
        WALK_COUNT_RATIO times the smallest footprint asked for (SQL, params).
        SQLite's scalar min() and max(); only SQLite counts by walking."""
        if not footprints:
            return None
        sqls = [sql for *_, (sql, _params) in footprints]
        params = [p for *_, (_sql, ps) in footprints for p in ps]
        least = sqls[0] if len(sqls) == 1 else f"min({', '.join(sqls)})"
        return f"{WALK_COUNT_RATIO} * {least}", params

    def _count_by_walk(self) -> bool:
        """Is a walked list cheaper to count by walking its date window too?

        Counting a prolific record's letters by index reads each of them (~2.5 us a
        letter at 100k on SQLite: 110 ms for a person who signed 53,000), whatever
        the window; walking the window tests each of its letters against the
        record's (~0.3 us a letter: 11 ms for that person in 2015). The probe read
        the window's size up to WALK_COUNT_RATIO times the smallest footprint
        filtered on (_walk_count_cap), so a size below that is exact."""
        probe, footprints = self._probe, self._footprints
        if probe is None or not footprints:
            return False
        return probe.size < WALK_COUNT_RATIO * min(footprints.values())

    def _narrowing(self) -> set[str]:
        """The filters given that narrow the letters (`ordering` sorts them, and
        `role` only qualifies `person` or `organisation`)."""
        return {
            key
            for key, value in self.form.cleaned_data.items()
            if key not in ("ordering", "role") and value not in EMPTY_VALUES
        }

    def _only(self, name: str) -> bool:
        """Is `name` the only filter given that narrows the letters?"""
        return self._narrowing() == {name}

    @staticmethod
    def _signed_sql(value) -> tuple[str, list]:
        """A scalar subquery: the published letters the ONE person this value names
        signed, as stored (footprint.py keeps `letters_signed` exact); NULL when it
        names several persons or none (their letters may overlap)."""
        quote = connection.ops.quote_name
        signed = f"{quote(Person._meta.db_table)}.{quote('letters_signed')}"
        sql, params = _named_sql(Person, value, f"{signed} AS letters_signed")
        return (
            f"(SELECT CASE WHEN COUNT(*) = 1 THEN MAX(t.letters_signed) END "
            f"FROM ({sql}) AS t)",
            params,
        )

    def _read_signed(self, values) -> None:
        self._signed = values[0]

    def _read_window(self, values) -> None:
        self._probe = self._window_result(values)

    def _resolution(self, model, value):
        def read(values):
            joined = values[0]
            ids = [int(i) for i in str(joined).split(",")] if joined else []
            self._resolved[(model, self._value_key(value))] = sorted(ids)

        return read

    def _organisation_tables(self) -> list[tuple[type, list[str]]]:
        """The role tables an organisation filter tests (querysets.role_tables), each
        with the filter's roles it answers for (its stored footprint's roles)."""
        roles = self._roles() or ORGANISATION_ROLES
        return [
            (table, values or [TABLE_ROLES[table._meta.model_name]])
            for table, values in role_tables("organisation", roles)
        ]

    def _table_footprint_reader(self, table):
        def read(values):
            self._table_footprints[table] = values[0] or 0

        return read

    def _footprint_reader(self, model, value, roles):
        def read(values):
            self._footprints[self._footprint_key(model, value, roles)] = values[0] or 0

        return read

    def _read_search(self, values) -> None:
        from letters.search import read_probe

        self._search = read_probe(values[0])

    def _ids(self, model, value) -> list[int]:
        """The ids of the records a ref filter names (resolved by _run_probes)."""
        return self._resolved[(model, self._value_key(value))]

    def _narrow_window(self) -> bool:
        """Is the date window small enough to test each letter in it for a role?

        An organisation filter has two plans. "IN (a UNION of the role tables)" reads
        every role row of the organisation (35,000 for the largest at 100k letters,
        ~70 ms on SQLite) and is the right plan for a wide window; "EXISTS per
        letter of the window" costs a few index probes per letter in the window and
        is the right plan for a narrow one (a 3-month window at 100k letters holds
        ~2,500 letters). SQLite's planner cannot make that choice for us; the
        window probe (at most NARROW_WINDOW + 1 letters read) decides.
        """
        probe = self._window_probe()
        return probe is not None and probe.size <= NARROW_WINDOW

    def filter_queryset(self, queryset):
        """The filtered letters. When a filter chose a plan that walks the letters
        in order (good for a page, poor for counting the whole set unless the date
        window is small: _count_by_walk), the result carries `set_queryset`: the
        same letters planned for reading them all, which the paginator counts
        (still one query). Facets keep the walk: grouping a
        prolific person's letters measured slower through the index (247 ms against
        203 ms at 100k)."""
        self._for_set, self._walks = False, False
        self._run_probes()
        filtered = self._filtered(queryset)
        if self._signed is not None:
            # One signatory and nothing else: their stored count is the list's
            # (a prolific signatory's count read 53,000 index entries; page 2
            # of their letters 48 -> 17 ms at 100k letters, docs/benchmarks.md).
            filtered.known_count = self._signed
        elif self._walks and not self._count_by_walk():
            self._for_set = True
            filtered.set_queryset = self._filtered(queryset)
        # Every published letter: the facets may rank from the stored footprint.
        filtered.whole_archive = not self._narrowing()
        return filtered

    def _filtered(self, queryset):
        queryset = super().filter_queryset(queryset)
        start, _ = self._window()
        if start is None:
            return queryset  # the earliest start would be the archive's first
        probe = self._window_probe()
        if probe.earliest is None:
            return queryset.none()  # no published letter in the window
        # Redundant for the result, decisive for the plan: see _window_probe.
        return queryset.filter(date_earliest__gte=probe.earliest)

    def _organisation_q(
        self, value, roles=None, per_letter=False, field="pk", as_set=True
    ):
        """Q on letters: the organisation in one of the roles (all of them when
        none is given). Every role, not per letter and `as_set`: one IN over the
        roles' UNION (organisation_role_q); otherwise one IN, or with
        `per_letter` one EXISTS, per role, OR'ed."""
        ids = self._ids(Organisation, value)
        if not roles and not per_letter and as_set:
            return organisation_role_q(ids, field)
        roles = roles or ORGANISATION_ROLES
        if per_letter:
            # A role table holding few of these organisations' letters for the
            # window's size is read once (IN), not probed per letter.
            most = ROLE_LIST_RATIO * self._window_probe().size
            listed = [t for t, n in self._table_footprints.items() if n <= most]
            return Q(RoleExists("organisation", ids, roles, listed=listed))
        q = Q(pk__in=[])
        for part in role_rows("organisation", ids, roles):
            q |= Q(**{f"{field}__in": part.values("letter")})
        return q

    def filter_person(self, queryset, name, value):
        return self._involving(queryset, value, self._roles())

    def filter_exclude_person(self, queryset, name, value):
        return queryset.exclude(self._person_q(value, self._roles()))

    def filter_signatory(self, queryset, name, value):
        return self._involving(queryset, value, ["signatory"])

    def _addressed(self, queryset, value, roles):
        from letters.models import Addressee

        people = self._ids(Person, value)
        bodies = self._ids(Organisation, value)
        return queryset.filter(
            pk__in=Addressee.objects.filter(
                Q(person__in=people) | Q(organisation__in=bodies), role__in=roles
            ).values("letter")
        )

    def filter_addressee(self, queryset, name, value):
        return self._addressed(queryset, value, AddresseeRole.values)

    def filter_cc(self, queryset, name, value):
        return self._addressed(queryset, value, [AddresseeRole.CC])

    def filter_organisation(self, queryset, name, value):
        """Three plans: EXISTS per letter of a narrow date window; otherwise the
        organisation's letters as one set, which SQLite either fetches and sorts
        or, for an organisation in many letters, tests while walking the letters
        in order (as for prolific persons: the first page of the largest
        organisation at 100k letters, 35,000 letters, 157 -> 53 ms,
        docs/benchmarks.md)."""
        if self._narrow_window():
            return queryset.filter(
                self._organisation_q(value, self._roles(), per_letter=True)
            )
        queryset, field, walk = self._walk_if_many(
            queryset, Organisation, value, self._roles()
        )
        # PostgreSQL walks the letters through OR'ed IN subqueries (_walk_if_many)
        as_set = not walk or connection.vendor == "sqlite"
        return queryset.filter(
            self._organisation_q(value, self._roles(), field=field, as_set=as_set)
        )

    def filter_exclude_organisation(self, queryset, name, value):
        return queryset.exclude(self._organisation_q(value, self._roles()))

    def filter_search(self, queryset, name, terms):
        # With a person or organisation filter, their letters drive the query and
        # the search is tested against them (the "common" plan of text_match_q),
        # which also spares the plan probe: a list stays within five queries.
        data = self.form.cleaned_data
        if any(data.get(f) for f in DRIVING_FILTERS):
            return queryset.filter(letter_search_q(terms, common=True))
        probe = self._search  # None when the search has no word token
        return queryset.filter(
            letter_search_q(
                terms,
                common=probe.common if probe else None,
                ids=probe.ids if probe else None,
            )
        )


# In the per-letter plan of an organisation filter (a narrow date window), a role
# table is read once, by IN over the organisations' rows in it, when their stored
# footprint there is at most this many times the window's size; otherwise each
# letter of the window is probed in it (EXISTS). Reading a row and looking a letter
# up in what was read cost about what one probe costs: the largest organisations'
# ~200 addressed, mentioned and issued letters against a window of ~2,500 letters,
# the count 5.1 -> 2.1 ms at 100k on SQLite (querysets.RoleExists).
ROLE_LIST_RATIO = 1

# Every role an organisation can hold in a letter (an organisation filter without
# `role`).
ORGANISATION_ROLES = ("issuer", "signatory", "addressee", "mentioned")

# The filter role each role table but the addressees' answers for (their `role`
# column holds to and cc: querysets.role_tables).
TABLE_ROLES = {"signatory": "signatory", "mention": "mentioned", "issuer": "issuer"}

# The filters naming records by id or key, and what they name (see _run_probes).
REF_FILTERS = {
    "place": (Place,),
    "person": (Person,),
    "exclude_person": (Person,),
    "signatory": (Person,),
    "addressee": (Person, Organisation),
    "cc": (Person, Organisation),
    "organisation": (Organisation,),
    "exclude_organisation": (Organisation,),
}

# Filters that select letters through role rows (see filter_search).
DRIVING_FILTERS = ("person", "signatory", "addressee", "cc", "organisation")


def letter_search_q(
    terms: list[str], *, common: bool | None = None, ids: list[int] | None = None
) -> Q:
    """Every word token begins a word of the letter's search document: its own text
    or a folded name of someone or some body involved in it (letters.search)."""
    from letters.search import text_match_q, tokens

    return text_match_q(tokens(terms), common=common, ids=ids)


class PersonFilter(ArchiveFilterSet):
    search = SearchFilter(
        method="filter_search",
        help_text="Any name form (display name, sort name, other names and "
        "spellings); accent- and case-insensitive.",
    )
    role = MultipleChoiceFilter(
        choices=[c for c in ROLE_CHOICES if c[0] != "issuer"],
        method="filter_role",
        help_text="Persons with at least one published letter in one of these roles.",
    )
    organisation = RefFilter(
        method="filter_organisation",
        help_text="Persons who signed for, or hold a published office or membership "
        "in, any of these organisations (id or key).",
    )
    country = CountryFilter(help_text="ISO 3166-1 alpha-2 code, e.g. FR (OR).")
    ordering = StableOrderingFilter(
        fields=(
            ("sort_name", "name"),
            ("letters_signed", "letters_signed"),
            ("letters_received", "letters_received"),
            ("letters_addressed", "letters_addressed"),
            ("letters_copied", "letters_copied"),
            ("letters_mentioned_in", "letters_mentioned_in"),
            ("letters_total", "letters_total"),
        ),
        help_text="Sort by name or by a letter count; prefix with - to reverse.",
    )

    class Meta:
        model = Person
        fields: list[str] = []

    def filter_search(self, queryset, name, terms):
        for term in terms:
            queryset = queryset.filter(search_text__contains=term)
        return queryset

    def filter_role(self, queryset, name, value):
        """From the stored counts (letters.footprint keeps them exact). to and cc
        probed each addressee's rows for the role: 42 -> 15 ms at 100k letters on
        SQLite (docs/benchmarks.md)."""
        q = Q(pk__in=[])
        if "signatory" in value:
            q |= Q(letters_signed__gt=0)
        if "addressee" in value:
            q |= Q(letters_received__gt=0)
        if "to" in value:
            q |= Q(letters_addressed__gt=0)
        if "cc" in value:
            q |= Q(letters_copied__gt=0)
        if "mentioned" in value:
            q |= Q(letters_mentioned_in__gt=0)
        return queryset.filter(q)

    def filter_organisation(self, queryset, name, value):
        """Persons who signed a published letter for these organisations, or held
        a published office in them. The organisations are joined by id or key, not
        an IN subquery: behind a subquery SQLite scanned all 1.1M signatures at 100k
        letters (631 ms a page for the largest organisation, 144-183 ms joined,
        docs/benchmarks-history.md); joined, it reads the organisation's signatures from
        their index."""
        from letters.models import Signatory

        ids, keys = value
        named = Q(organisation_id__in=ids) | Q(organisation__key__in=keys)
        return queryset.filter(
            Q(
                pk__in=Signatory.objects.filter(named, letter__status=PUBLISHED)
                .order_by()
                .values("person")
            )
            | Q(
                pk__in=Membership.objects.published()
                .filter(named)
                .order_by()
                .values("person")
            )
        )


class OrganisationFilter(ArchiveFilterSet):
    search = SearchFilter(
        method="filter_search",
        help_text="Name, acronym or other names; accent- and case-insensitive.",
    )
    kind = MultipleChoiceFilter(
        choices=OrganisationKind.choices, help_text="Kind of organisation (OR)."
    )
    country = CountryFilter(help_text="ISO 3166-1 alpha-2 code, e.g. FR (OR).")
    parent = RefFilter(
        method="filter_parent", help_text="Direct parts of these organisations."
    )
    ordering = StableOrderingFilter(
        fields=(
            ("name", "name"),
            ("letters_issued", "letters_issued"),
            ("letters_signed_for", "letters_signed_for"),
            ("letters_received", "letters_received"),
            ("letters_mentioned_in", "letters_mentioned_in"),
            ("letters_total", "letters_total"),
        ),
        help_text="Sort by name or by a letter count; prefix with - to reverse.",
    )

    class Meta:
        model = Organisation
        fields: list[str] = []

    def filter_search(self, queryset, name, terms):
        for term in terms:
            queryset = queryset.filter(search_text__contains=term)
        return queryset

    def filter_parent(self, queryset, name, value):
        return queryset.filter(parent__in=_refs(Organisation, value))


class PlaceFilter(ArchiveFilterSet):
    country = CountryFilter(help_text="ISO 3166-1 alpha-2 code, e.g. FR (OR).")
    ordering = StableOrderingFilter(
        fields=(("name", "name"), ("letter_count", "letter_count")),
        help_text="Sort by name or number of letters; prefix with - to reverse.",
    )

    class Meta:
        model = Place
        fields: list[str] = []


class OfficeFilter(ArchiveFilterSet):
    person = RefFilter(method="filter_person", help_text="Held by these persons.")
    organisation = RefFilter(
        method="filter_organisation", help_text="In these organisations."
    )
    held_on = PartialDateFilter(
        method="filter_held_on",
        help_text="Offices that may have been held during this partial date (a day, "
        "month or year). Offices with an unknown start are left out.",
    )
    ordering = StableOrderingFilter(
        fields=(("start_date", "start"), ("end_date", "end")),
        help_text="Sort by start or end; prefix with - to reverse.",
    )

    class Meta:
        model = Membership
        fields: list[str] = []

    def filter_person(self, queryset, name, value):
        return queryset.filter(person__in=_refs(Person, value))

    def filter_organisation(self, queryset, name, value):
        return queryset.filter(organisation__in=_refs(Organisation, value))

    def filter_held_on(self, queryset, name, value):
        return queryset.filter(
            start_date__isnull=False, start_date__lte=value.latest
        ).filter(Q(end_date__isnull=True) | Q(end_date__gte=value.earliest))
