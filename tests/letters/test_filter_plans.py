"""The organisation filter has two query plans (IN over a UNION of the role tables for
wide windows, EXISTS per letter for narrow ones, chosen by a bounded probe). Both must
find exactly the letters a plain reading of the role tables finds."""

import re
from collections import Counter
from datetime import date
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.db.models import Min, Q
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from letters import dates, facets, filters, footprint, services, synthetic
from letters.models import (
    Addressee,
    Issuer,
    Letter,
    Mention,
    Organisation,
    Person,
    Place,
    Signatory,
)
from letters.vocabularies import LetterKind

ROLE_TABLES = {
    "signatory": [Signatory],
    "issuer": [Issuer],
    "mentioned": [Mention],
    "to": [Addressee],
}


@pytest.fixture
def corpus(seeded):
    synthetic.generate(letters=300, seed=3)


def expected(org, roles, after, before):
    tables = [t for r in roles for t in ROLE_TABLES[r]] if roles else [
        Signatory, Addressee, Mention, Issuer,
    ]  # fmt: skip
    letter_ids = set()
    for table in tables:
        rows = table.objects.filter(organisation=org)
        if roles == ["to"]:
            rows = rows.filter(role="to")
        letter_ids |= set(rows.values_list("letter_id", flat=True))
    found = set()
    for letter in Letter.objects.published().filter(pk__in=letter_ids):
        if after and letter.date_latest < after:
            continue
        if before and letter.date_earliest > before:
            continue
        found.add(letter.identifier)
    return found


def fetch(client, params):
    found, page = set(), 1
    with CaptureQueriesContext(connection) as queries:
        while True:
            response = client.get("/api/v1/letters/", {**params, "page": page})
            assert response.status_code == 200, response.content[:300]
            body = response.json()
            found |= {letter["identifier"] for letter in body["results"]}
            if not body["next"]:
                return found, " ".join(q["sql"] for q in queries.captured_queries)
            page += 1


@pytest.mark.parametrize("roles", [None, ["signatory"], ["to"], ["mentioned"]])
def test_both_plans_find_exactly_the_letters_of_the_role_tables(
    client, corpus, monkeypatch, roles
):
    organisations = list(
        Organisation.objects.filter(synthetic=True).order_by(
            "-letters_signed_for", "pk"
        )
    )
    checked = 0
    for org in organisations[:2] + organisations[-2:]:
        for after, before in (
            (date(2012, 1, 1), date(2012, 6, 30)),
            (None, date(2011, 3, 31)),
            (date(2014, 1, 1), None),
        ):
            params = {"organisation": org.key, "page_size": 100}
            if roles:
                params["role"] = ",".join(roles)
            if after:
                params["date_after"] = after.isoformat()
            if before:
                params["date_before"] = before.isoformat()
            truth = expected(org, roles, after, before)
            monkeypatch.setattr(filters, "PROLIFIC", 10**9)
            monkeypatch.setattr(filters, "NARROW_WINDOW", 10**9)
            monkeypatch.setattr(filters, "ROLE_LIST_RATIO", 0)  # every table probed
            per_letter, sql = fetch(client, params)
            assert "EXISTS" in sql
            monkeypatch.setattr(filters, "ROLE_LIST_RATIO", 10**9)  # every one read
            listed, sql = fetch(client, params)
            assert "EXISTS" not in sql
            assert listed == per_letter
            monkeypatch.setattr(filters, "NARROW_WINDOW", 0)
            union, sql = fetch(client, params)
            assert "EXISTS" not in sql
            assert '+"letters_letter"."id"' not in sql
            # The third plan: SQLite walks the letters in order, testing the set.
            monkeypatch.setattr(filters, "PROLIFIC", -1)
            walked, sql = fetch(client, params)
            assert "EXISTS" not in sql
            if connection.vendor == "sqlite" and truth:  # (no page read when empty)
                assert '+"letters_letter"."id" IN' in sql
            assert per_letter == union == walked == truth, (org.key, after, before)
            checked += bool(truth)
    assert checked >= 4  # the comparisons were not all between empty sets


def ordered(client, params, path="/api/v1/letters/", key="identifier"):
    """Identifiers (or another `key`) in the API's order, across pages, and the SQL
    that ran."""
    found, page = [], 1
    with CaptureQueriesContext(connection) as queries:
        while True:
            response = client.get(path, {**params, "page": page})
            assert response.status_code == 200, response.content[:300]
            body = response.json()
            found += [record[key] for record in body["results"]]
            if not body["next"]:
                return found, " ".join(q["sql"] for q in queries.captured_queries)
            page += 1


def query_plan(sql: str) -> str:
    """SQLite's plan of one statement, its steps joined by " | "."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return " | ".join(row[-1] for row in cursor.fetchall())


def page_plan(client, path, params, size) -> str:
    """SQLite's plan of the page statement (LIMIT `size`) of one list request."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, {**params, "page_size": size}).status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    return query_plan(next(q for q in sql if f"LIMIT {size}" in q))


def count_sql(client, params) -> str:
    """The SQL that counted the list (PostgreSQL counts with the page's filter)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/letters/", params)
    assert response.status_code == 200, response.content[:300]
    return next(
        q["sql"] for q in queries.captured_queries if 'AS "__count"' in q["sql"]
    )


@pytest.mark.parametrize(
    ("parameter", "tables"),
    [
        ("signatory", [Signatory]),
        ("person", [Signatory, Addressee, Mention]),
    ],
)
def test_both_person_plans_give_the_same_letters_in_the_same_order(
    client, corpus, monkeypatch, parameter, tables
):
    persons = list(
        Signatory.objects.filter(letter__synthetic=True, person__isnull=False)
        .order_by("person__key")
        .values_list("person__key", flat=True)
        .distinct()[:3]
    )
    letter_ids = set()
    for table in tables:
        letter_ids |= set(
            table.objects.filter(person__key__in=persons).values_list(
                "letter_id", flat=True
            )
        )
    truth = list(
        Letter.objects.published()
        .filter(pk__in=letter_ids)
        .order_by("-date_earliest", "identifier")
        .values_list("identifier", flat=True)
    )
    assert len(truth) > 5
    params = {parameter: ",".join(persons), "page_size": 7, "ordering": "-date"}
    postgresql = connection.vendor == "postgresql"
    monkeypatch.setattr(filters, "PROLIFIC", 10**9)
    indexed, sql = ordered(client, params)
    assert '+"letters_letter"."id"' not in sql
    # No window: the roles' letters as one set, fetched by id (both engines)
    assert ("UNION ALL" in count_sql(client, params)) == (len(tables) > 1)
    monkeypatch.setattr(filters, "PROLIFIC", 0)
    walked, sql = ordered(client, params)
    if connection.vendor == "sqlite":
        assert '+"letters_letter"."id" IN' in sql
    if postgresql:  # one IN per role, OR'ed: PostgreSQL walks the letters
        counted = count_sql(client, params)
        assert "UNION" not in counted
        assert counted.count(" IN (SELECT") == len(tables)
    assert indexed == walked == truth


@pytest.mark.sqlite
def test_a_person_in_a_small_window_is_tested_while_the_window_is_walked(
    client, corpus, monkeypatch
):
    """SQLite: in a date window holding fewer than WALK_COUNT_RATIO letters per
    letter of the person's footprint, the person's roles are OR'ed INs (SQLite
    walks the window's index and tests each letter); in a larger one, one IN over
    their UNION ALL (the person's letters drive the query). Same letters."""
    person = (
        Signatory.objects.filter(letter__synthetic=True, person__isnull=False)
        .order_by("-person__letters_signed", "person__key")
        .values_list("person__key", flat=True)
        .first()
    )
    params = {
        "person": person,
        "date_after": "1990",
        "date_before": "2030",
        "page_size": 5,
        "ordering": "-date",
    }
    monkeypatch.setattr(filters, "WALK_COUNT_RATIO", 10**6)  # every window is small
    walked, _ = ordered(client, params)
    counted = count_sql(client, params)
    assert "UNION" not in counted
    assert counted.count(" IN (SELECT") == 3
    monkeypatch.setattr(filters, "WALK_COUNT_RATIO", 0)  # every window is large
    driven, _ = ordered(client, params)
    assert "UNION ALL" in count_sql(client, params)
    expected = list(
        Letter.objects.published()
        .filter(
            Q(signatories__person__key=person)
            | Q(addressees__person__key=person)
            | Q(mentions__person__key=person),
            date_latest__gte=date(1990, 1, 1),
            date_earliest__lte=date(2030, 12, 31),
        )
        .distinct()
        .order_by("-date_earliest", "identifier")
        .values_list("identifier", flat=True)
    )
    assert len(expected) > 5  # more than one page
    assert walked == driven == expected


@pytest.mark.parametrize("role", [None, "signatory", "addressee"])
def test_both_organisation_set_plans_give_the_same_letters_in_the_same_order(
    client, corpus, monkeypatch, role
):
    org = Organisation.objects.filter(synthetic=True).order_by("-letters_signed_for")[0]
    params = {"organisation": org.key, "page_size": 7, "ordering": "-date"}
    if role:
        params["role"] = role
    postgresql = connection.vendor == "postgresql"
    monkeypatch.setattr(filters, "PROLIFIC", 10**9)
    indexed, sql = ordered(client, params)
    assert '+"letters_letter"."id"' not in sql
    if postgresql and not role:  # the four roles' letters as one set
        assert "UNION" in count_sql(client, params)
    monkeypatch.setattr(filters, "PROLIFIC", -1)
    walked, sql = ordered(client, params)
    if connection.vendor == "sqlite":
        assert '+"letters_letter"."id" IN' in sql
    if postgresql:  # one IN per role, OR'ed: PostgreSQL walks the letters
        counted = count_sql(client, params)
        assert "UNION" not in counted
        assert counted.count(" IN (SELECT") == (1 if role else 4)
    assert len(indexed) > 7  # more than one page
    assert indexed == walked


def largest_organisations():
    """Synthetic organisations by their letters, ties broken by id (on PostgreSQL
    the order of ties is otherwise the plan's)."""
    return Organisation.objects.filter(synthetic=True).order_by("-letters_total", "pk")


ROLE_SETS = [
    ("issuer", "signatory", "addressee", "mentioned"),
    ("signatory",),
    ("to",),
    ("cc", "mentioned"),
    ("issuer",),
]


@pytest.mark.parametrize("listed", ["none", "all", "small"])
@pytest.mark.parametrize("roles", ROLE_SETS, ids=",".join)
def test_role_exists_finds_what_djangos_exists_per_role_finds(corpus, roles, listed):
    """RoleExists writes out the EXISTS that Django builds for each role table
    (`Exists(part.filter(letter=OuterRef("pk")))`, OR'ed), or tests a listed table
    by IN over its rows: the same letters either way, also when the filtered
    letters are nested in another query (a later page's ids), where Django
    relabels the outer letter."""
    from django.db.models import Exists, OuterRef

    from letters.querysets import RoleExists, role_rows, role_tables

    tables = [model for model, _ in role_tables("organisation", roles)]
    tested_by_in = {
        "none": [],
        "all": tables,
        "small": [model for model in tables if model is not Signatory],
    }[listed]

    def role_test(chosen):
        return RoleExists("organisation", chosen, roles, listed=tested_by_in)

    # The two organisations with the most rows in these roles (ties by id): the
    # corpus's largest may hold none in a small role such as issuer.
    held = Counter()
    everyone = list(Organisation.objects.values_list("pk", flat=True))
    for part in role_rows("organisation", everyone, roles):
        held.update(part.values_list("organisation_id", flat=True))
    ids = sorted(held, key=lambda pk: (-held[pk], pk))[:2]
    assert len(ids) == 2
    checked = 0
    for chosen in ([ids[0]], ids, [ids[-1], 10**9]):
        django_q = Q(pk__in=[])
        for part in role_rows("organisation", chosen, roles):
            django_q |= Q(Exists(part.filter(letter=OuterRef("pk"))))
        letters = Letter.objects.published()
        theirs = letters.filter(django_q).order_by("date_earliest", "pk")
        ours = letters.filter(role_test(chosen)).order_by("date_earliest", "pk")
        expected = list(theirs.values_list("pk", flat=True))
        assert list(ours.values_list("pk", flat=True)) == expected
        assert ours.count() == len(expected)
        # Nested: the ids of a slice, then the letters by id (as a later page).
        nested = Letter.objects.filter(pk__in=ours.values("pk")[2:6]).order_by(
            "date_earliest", "pk"
        )
        assert list(nested.values_list("pk", flat=True)) == expected[2:6]
        checked += len(expected) > 6
    assert checked >= 1  # not only empty sets compared
    nobody = Letter.objects.filter(role_test([]))
    assert list(nobody) == []
    assert nobody.count() == 0


def test_a_narrow_window_organisation_pages_and_facets_as_the_set_plan(
    client, corpus, monkeypatch
):
    """The per-letter plan (RoleExists) and the set plan list the same letters over
    several pages (a later page nests the filter) and give the same facets."""
    org = largest_organisations()[0]
    params = {
        "organisation": org.key,
        "date_after": "2011",
        "date_before": "2016",
        "page_size": 4,
        "facets": "person,organisation,year",
    }
    results = []
    # Every window narrow, each role table probed per letter or read once; or no
    # window narrow (the set plan).
    for narrow, ratio in ((10**9, 0), (10**9, 10**9), (0, 1)):
        monkeypatch.setattr(filters, "NARROW_WINDOW", narrow)
        monkeypatch.setattr(filters, "ROLE_LIST_RATIO", ratio)
        listed, sql = ordered(client, params)
        assert ("EXISTS" in sql) is bool(narrow and not ratio)
        body = client.get("/api/v1/letters/", params).json()
        results.append((listed, body["count"], body["facets"]))
    assert len(results[0][0]) > 8  # more than two pages
    assert results[0] == results[1] == results[2]


def test_the_per_letter_plan_reads_an_organisations_small_roles_once(
    client, corpus, monkeypatch
):
    """In a narrow window each role table is probed per letter (EXISTS) where the
    organisation's stored footprint in it exceeds ROLE_LIST_RATIO times the
    window's size, and read once (IN) where it does not."""
    org = largest_organisations()[0]
    monkeypatch.setattr(filters, "NARROW_WINDOW", 10**9)
    window = Letter.objects.published().filter(
        date_latest__gte=date(2011, 1, 1), date_earliest__lte=date(2016, 12, 31)
    )
    size = window.count()
    footprints = {
        "signatory": org.letters_signed_for,
        "addressee": org.letters_received,
        "mention": org.letters_mentioned_in,
        "issuer": org.letters_issued,
    }
    # The ratio that puts the window's size between the organisation's signed
    # letters (probed) and its other roles (read), as at 100k letters.
    small = max(v for k, v in footprints.items() if k != "signatory")
    assert small < org.letters_signed_for
    ratio = (small + org.letters_signed_for) / 2 / size
    monkeypatch.setattr(filters, "ROLE_LIST_RATIO", ratio)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            "/api/v1/letters/",
            {"organisation": org.key, "date_after": "2011", "date_before": "2016"},
        )
    assert response.status_code == 200
    sql = next(q["sql"] for q in queries.captured_queries if 'AS "__count"' in q["sql"])
    for table, footprint_there in footprints.items():
        probed = f'EXISTS(SELECT 1 AS "a" FROM "letters_{table}"' in sql
        read = f'IN (SELECT "letters_{table}"."letter_id"' in sql
        assert (probed, read) == (
            (True, False) if footprint_there > ratio * size else (False, True)
        ), table


def test_the_year_filter_is_an_overlap_of_date_bounds(client, corpus):
    for year in (2011, 2015):
        truth = {
            letter.identifier
            for letter in Letter.objects.published().exclude(date_earliest=None)
            if letter.date_earliest.year <= year <= letter.date_latest.year
        }
        found, sql = fetch(client, {"year": year, "page_size": 100})
        assert found == truth
        assert len(truth) > 5
        assert "django_date_extract" not in sql
        assert "EXTRACT" not in sql


WINDOWS = [
    {"date_after": "2012-01-01", "date_before": "2012-06-30"},
    {"date_after": "2012-02-29", "date_before": "2012-02-29"},
    {"date_after": "2014-07"},
    {"date_before": "2011-02"},
    {"date_after": "2013", "date_before": "2013"},
    {"year": "2016"},
    {"year": "2016", "date_after": "2016-11-15"},
    {"year": "2011,2019"},
    {"date_after": "1990", "date_before": "1999"},
    {"date_after": "2013-05", "date_before": "2013-04"},
]


def decade_long_letter() -> Letter:
    """A published synthetic letter redated to a range of more than a decade."""
    long = Letter.objects.published().filter(synthetic=True).order_by("pk").first()
    long.date = "2005/2016-12"
    long.save()
    return long


@pytest.mark.parametrize("params", WINDOWS)
def test_a_date_window_finds_exactly_the_overlapping_letters(client, corpus, params):
    """Day, month, year and range dates, one of them a decade long: the window probe
    and the earliest-start bound it adds must lose none of them."""
    long = decade_long_letter()
    after = (
        dates.parse_bound(params["date_after"], end=False)
        if "date_after" in params
        else None
    )
    before = (
        dates.parse_bound(params["date_before"], end=True)
        if "date_before" in params
        else None
    )
    years = [int(y) for y in params.get("year", "").split(",") if y]
    truth = set()
    for letter in Letter.objects.published().exclude(date_earliest=None):
        value = dates.parse(letter.date)
        if not value.overlaps(after, before):
            continue
        if years and not any(
            value.overlaps(date(y, 1, 1), date(y, 12, 31)) for y in years
        ):
            continue
        truth.add(letter.identifier)
    found, sql = fetch(client, {**params, "page_size": 100})
    assert found == truth
    body = client.get("/api/v1/letters/", {**params, "page_size": 1}).json()
    assert body["count"] == len(truth)
    if params.get("date_after") == "2012-01-01":
        assert long.identifier in truth  # the decade-long range reached the window
        earliest = min(
            Letter.objects.published()
            .filter(identifier__in=truth)
            .values_list("date_earliest", flat=True)
        )
        assert f"date_earliest\" >= '{earliest.isoformat()}'" in sql


@pytest.mark.parametrize("narrow", [None, 4])
@pytest.mark.parametrize("params", WINDOWS)
def test_the_window_probe_reads_the_window_size_and_earliest_start(
    corpus, params, narrow, monkeypatch
):
    """The probe's size (read up to NARROW_WINDOW + 1 letters) and earliest start
    are those of the letters that overlap the window, read plainly: the count of a
    narrow window and the lower bound of every later query rest on them."""
    decade_long_letter()
    if narrow is not None:
        monkeypatch.setattr(filters, "NARROW_WINDOW", narrow)
    filterset = filters.LetterFilter(QueryDict(urlencode(params)))
    assert filterset.is_valid(), filterset.errors
    filterset._run_probes()
    start, end = filterset._window()
    if start is None and end is None:
        assert filterset._probe is None  # several years: no single window
        return
    window = Letter.objects.published()
    if start is not None:
        window = window.filter(date_latest__gte=start)
    if end is not None:
        window = window.filter(date_earliest__lte=end)
    size = window.count()
    assert filterset._probe == filters.WindowProbe(
        min(size, filters.NARROW_WINDOW + 1),
        window.aggregate(first=Min("date_earliest"))["first"],
    )


def test_a_walked_list_is_counted_through_the_index(client, corpus, monkeypatch):
    """The ordered walk serves the page; the count reads the same letters by index
    (LetterFilter.filter_queryset's set_queryset) and must give the same number."""
    person = (
        Signatory.objects.filter(letter__synthetic=True, person__isnull=False)
        .values_list("person__key", flat=True)
        .order_by("person__key")
        .first()
    )
    truth = set(
        Letter.objects.published()
        .filter(signatories__person__key=person)
        .values_list("identifier", flat=True)
    )
    assert len(truth) > 3
    monkeypatch.setattr(filters, "PROLIFIC", 0)
    # person + role, not signatory: a lone signatory's count is their stored one,
    # with no count query to inspect.
    params = {"person": person, "role": "signatory", "page_size": 2}
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/letters/", params).json()
    assert body["count"] == len(truth)
    assert {r["identifier"] for r in body["results"]} <= truth
    count_sql = next(
        q["sql"] for q in queries.captured_queries if 'AS "__count"' in q["sql"]
    )
    page_sql = next(q["sql"] for q in queries.captured_queries if "LIMIT 2" in q["sql"])
    assert '+"letters_letter"."id"' not in count_sql
    if connection.vendor == "sqlite":
        assert '+"letters_letter"."id"' in page_sql
    assert len(queries.captured_queries) <= 5


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="only SQLite walks a record's letters"
)
@pytest.mark.parametrize("parameter", ["signatory", "organisation"])
def test_a_walked_list_in_a_small_window_is_counted_by_walking_it(
    client, corpus, monkeypatch, parameter
):
    """A prolific record in a date window: the count walks the window when it holds
    fewer than WALK_COUNT_RATIO letters per letter of the record's footprint, and
    reads the record's letters by index otherwise. The window's size must come
    from a probe that read that far (not the NARROW_WINDOW + 1 letters it reads
    for the organisation plans), and both counts must be the truth."""
    if parameter == "signatory":
        record = Person.objects.filter(synthetic=True).order_by("-letters_signed")[0]
        stored = sum(
            getattr(record, column) for column in footprint.ROLE_COUNTS["Person"]
        )
        rows = Signatory.objects.filter(person=record)
    else:
        record = Organisation.objects.filter(synthetic=True).order_by(
            "-letters_signed_for"
        )[0]
        stored = sum(
            getattr(record, column) for column in footprint.ROLE_COUNTS["Organisation"]
        )
        rows = [
            table.objects.filter(organisation=record)
            for table in (Signatory, Addressee, Mention, Issuer)
        ]
    rows = rows if isinstance(rows, list) else [rows]
    ids = {i for part in rows for i in part.values_list("letter_id", flat=True)}
    window = Letter.objects.published().filter(date_latest__gte=date(2010, 1, 1))
    truth = window.filter(pk__in=ids).count()
    assert 3 < truth < stored < window.count()  # the window holds more letters

    def count_and_its_sql():
        with CaptureQueriesContext(connection) as queries:
            body = client.get(
                "/api/v1/letters/",
                {parameter: record.key, "date_after": "2010", "page_size": 2},
            ).json()
        sql = [q["sql"] for q in queries.captured_queries if '"__count"' in q["sql"]]
        assert len(sql) == 1
        assert len(queries.captured_queries) <= 5
        return body["count"], sql[0]

    monkeypatch.setattr(filters, "PROLIFIC", 0)  # the page walks
    monkeypatch.setattr(filters, "NARROW_WINDOW", 1)  # no per-letter EXISTS plan
    monkeypatch.setattr(filters, "WALK_COUNT_RATIO", 1)  # window > footprint
    count, sql = count_and_its_sql()
    assert count == truth
    assert '+"letters_letter"."id"' not in sql
    monkeypatch.setattr(filters, "WALK_COUNT_RATIO", 10**6)
    count, sql = count_and_its_sql()
    assert count == truth
    assert '+"letters_letter"."id" IN' in sql


@pytest.fixture
def minister(corpus):
    """A person addressed (to) in 30 published letters and copied (cc) in 2, who
    signed 2 and is named in none: the shape of a real archive's ministers. Rows
    saved one by one, so the footprint's signal handlers keep the stored counts
    exact."""
    person = Person.objects.create(
        key="a-minister", display_name="A Minister", sort_name="Minister, A"
    )
    signed = Letter.objects.published().order_by("-pk")[:2]
    for letter in signed:
        Signatory.objects.create(
            letter=letter, person=person, position=99, name_as_written="A MINISTER"
        )
    letters = list(
        Letter.objects.published().exclude(pk__in=signed).order_by("pk")[:32]
    )
    for number, letter in enumerate(letters):
        Addressee.objects.create(
            letter=letter, person=person, position=99,
            role="cc" if number < 2 else "to",
        )  # fmt: skip
    person.refresh_from_db()
    assert (person.letters_signed, person.letters_addressed) == (2, 30)
    assert (person.letters_copied, person.letters_total) == (2, 34)
    return person


def _letter_ids(person, roles):
    tables = {
        "signatory": Signatory.objects.filter(person=person),
        "to": Addressee.objects.filter(person=person, role="to"),
        "cc": Addressee.objects.filter(person=person, role="cc"),
        "mentioned": Mention.objects.filter(person=person),
    }
    return {
        i for role in roles for i in tables[role].values_list("letter_id", flat=True)
    }


@pytest.mark.parametrize(
    ("params", "roles", "walks"),
    [
        ({"signatory": "{key}"}, ["signatory"], False),
        ({"person": "{key}"}, ["signatory", "to", "cc", "mentioned"], True),
        ({"person": "{key}", "role": "to"}, ["to"], True),
        ({"person": "{key}", "role": "cc"}, ["cc"], False),
        ({"person": "{key}", "role": "addressee"}, ["to", "cc"], True),
        (
            {"person": "{key}", "role": "signatory,mentioned"},
            ["signatory", "mentioned"],
            False,
        ),
        ({"person": "{key}", "role": "issuer"}, [], False),
    ],
)  # fmt: skip
def test_a_person_filter_plans_with_their_letters_in_the_roles_asked_for(
    client, minister, monkeypatch, params, roles, walks
):
    """The walk is for records in more than PROLIFIC letters in the roles filtered
    on (footprint.role_footprint_sql), not in every role: the minister's 2 signed
    letters are fetched by id, their 30 received ones walked (PROLIFIC at 20). The
    letters are the role tables' either way."""
    monkeypatch.setattr(filters, "PROLIFIC", 20)
    params = {k: v.format(key=minister.key) for k, v in params.items()}
    truth = set(
        Letter.objects.published()
        .filter(pk__in=_letter_ids(minister, roles))
        .values_list("identifier", flat=True)
    )
    found, sql = ordered(client, {**params, "page_size": 7})
    assert (set(found), len(found)) == (truth, len(truth))
    if connection.vendor == "sqlite":
        assert ('+"letters_letter"."id" IN' in sql) == walks
    elif len(roles) > 1:  # PostgreSQL walks through OR'ed INs, fetches a UNION ALL
        assert ("UNION ALL" in count_sql(client, params)) == (not walks)


def test_several_roles_plan_with_at_most_the_letters_in_any_role(
    client, minister, monkeypatch
):
    """A letter holding the person in two roles counts once: the footprint of
    several roles is their counts' sum, at most letters_total. With one letter
    naming the minister as both addressee and cc, signed 2 + to 30 + cc 3 = 35
    role counts are 34 letters: walked above a PROLIFIC of 33, not of 34."""
    letter = Addressee.objects.filter(person=minister, role="to").first().letter
    Addressee.objects.create(letter=letter, person=minister, position=98, role="cc")
    minister.refresh_from_db()
    assert (minister.letters_addressed, minister.letters_copied) == (30, 3)
    assert minister.letters_total == 34
    params = {"person": minister.key, "role": "signatory,to,cc", "page_size": 7}
    for prolific, walks in ((34, False), (33, True)):
        monkeypatch.setattr(filters, "PROLIFIC", prolific)
        found, sql = ordered(client, params)
        assert len(found) == len(set(found)) == 34
        if connection.vendor == "sqlite":
            assert ('+"letters_letter"."id" IN' in sql) == walks
        else:
            assert ("UNION ALL" in count_sql(client, params)) == (not walks)


def _scalar(sql: str, params: list):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", params)
        return cursor.fetchone()[0]


def stored_footprint(record, roles) -> int:
    """A record's footprint in these roles, read off its stored counts in Python:
    letters_total for no role; for several roles the sum of their counts (to and cc
    counted once, as addressee), at most letters_total."""
    if not roles:
        return record.letters_total
    columns = footprint.ROLE_FOOTPRINT[type(record).__name__]
    if "addressee" in roles:
        roles = [r for r in roles if r not in ("to", "cc")]
    fields = {columns[role] for role in roles if role in columns}
    total = sum(getattr(record, field) for field in fields)
    return min(total, record.letters_total) if len(fields) > 1 else total


@pytest.mark.parametrize("model", [Person, Organisation], ids=["person", "org"])
def test_the_probes_record_subqueries_read_what_the_orm_reads(corpus, model):
    """The probe's subqueries on persons and organisations are written out
    (_named_sql): each reads what the ORM's queryset of the same records holds,
    for ids, keys, both, several records and unknown ones, in every role set."""
    by_total = model.objects.filter(synthetic=True).order_by("-letters_total", "pk")
    records = list(by_total)
    big, small = records[0], records[-1]
    values = [
        ([big.pk], []),
        ([], [small.key]),
        ([big.pk], [small.key, "no-such-key"]),
        ([10**9], ["no-such-key"]),
        ([small.pk], [small.key]),  # the same record twice
    ]
    role_sets = [None, ["signatory"], ["addressee"], ["to", "cc"], ["mentioned"]]
    role_sets += [["issuer"], ["signatory", "issuer"], ["signatory", "to", "mentioned"]]
    for value in values:
        named = filters._named(model, value)
        ids = sorted(named.values_list("pk", flat=True))
        joined = _scalar(*filters._ids_sql(model, value))
        assert (sorted(int(i) for i in joined.split(",")) if joined else []) == ids
        for roles in role_sets:
            expected = sum(stored_footprint(record, roles) for record in named)
            sql = filters.LetterFilter._footprint_sql(model, value, roles)
            assert _scalar(*sql) == expected, (value, roles)
        if model is Person:
            signed = list(named.values_list("letters_signed", flat=True))
            expected = signed[0] if len(signed) == 1 else None
            assert _scalar(*filters.LetterFilter._signed_sql(value)) == expected
    assert big.letters_total > small.letters_total  # the sums were not all equal


def test_every_ref_filter_is_resolved_by_the_probe():
    """A ref filter missing from REF_FILTERS would find no ids to filter by."""
    refs = {
        name
        for name, f in filters.LetterFilter.base_filters.items()
        if isinstance(f, filters.RefFilter)
    }
    assert refs == set(filters.REF_FILTERS)


@pytest.mark.parametrize(
    ("params", "index"),
    [
        ({"kind": "press_release,statement"}, "letter_status_kind"),
        ({"kind": "letter", "exclude_kind": "statement"}, "letter_status_kind"),
        ({"language": "fr"}, "letter_status_language"),
    ],
)
def test_a_choice_filter_counts_from_its_index_without_distinct(
    client, corpus, params, index
):
    """django-filter's choice filters add DISTINCT by default: a count over every
    column of the archive's letters (215 ms at 100k), for filters that cannot repeat
    a row. The count reads the filter's index instead of the letters (a scan)."""
    expected = {
        letter.identifier
        for letter in Letter.objects.published()
        if (not params.get("kind") or letter.kind in params["kind"].split(","))
        and letter.kind != params.get("exclude_kind")
        and letter.language == params.get("language", letter.language)
    }
    found, sql = fetch(client, {**params, "page_size": 100})
    assert found == expected
    assert "DISTINCT" not in sql
    if connection.vendor == "sqlite":
        with CaptureQueriesContext(connection) as queries:
            client.get("/api/v1/letters/", params)
        count = next(q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"])
        plan = query_plan(count)
        assert f"COVERING INDEX {index}" in plan, plan


@pytest.mark.parametrize("ordering", ["title", "-title"])
def test_title_order_pages_through_its_index(client, corpus, ordering):
    """ordering=title sorted every published letter for each page (440 ms at 100k
    on SQLite); the (status, title, date, identifier) index yields them in order.
    Pages of 7 must still be the slices of the whole order, ties broken by date."""
    descending = ordering.startswith("-")
    first = Letter.objects.filter(synthetic=True).order_by("pk")[:20]
    Letter.objects.filter(pk__in=list(first.values_list("pk", flat=True))).update(
        title="Same"
    )
    found, _sql = ordered(client, {"ordering": ordering, "page_size": 7})
    letters = list(Letter.objects.published())
    by_date = sorted(letters, key=lambda x: (x.date_earliest or date.max, x.identifier))
    truth = [x.identifier for x in by_date]
    ties = [x.identifier for x in by_date if x.title == "Same"]
    assert len(ties) > 7  # the tie spans pages
    if connection.vendor == "sqlite":  # byte order, as Python's for UTF-8 text
        truth = [
            x.identifier
            for x in sorted(by_date, key=lambda x: x.title, reverse=descending)
        ]  # stable: ties keep their date order
        assert found == truth
        plan = page_plan(client, "/api/v1/letters/", {"ordering": ordering}, 7)
        assert "INDEX letter_status_title" in plan, plan
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
    else:
        assert sorted(found) == sorted(truth)
    assert [i for i in found if i in ties] == ties  # ties in date order


@pytest.mark.parametrize(
    ("params", "index"),
    [
        ({}, "letter_status_dates"),
        ({"date_after": "2014-03", "date_before": "2014-05"}, "letter_status_dates"),
        ({"place": "the tied letters' place"}, "letter_place_status"),
    ],
)
def test_a_page_in_date_order_is_read_in_its_index_order(client, corpus, params, index):
    """The list's order is (date_earliest, identifier), and many letters share their
    first date: every year-dated letter starts on 1 January. Pages of 7 are the
    slices of that whole order, the tie included; on SQLite a page is read in the
    order of its index (the date index, or the place index for place=), which ends
    in the identifier: it stops at the page's last letter instead of reading and
    sorting every letter of a date, or of a place (the first page's statement ~4 ->
    ~0.5 ms, a place's ~10 -> ~0.5 ms, at 100k letters)."""
    tied = Letter.objects.filter(synthetic=True).order_by("-pk")
    tied = list(tied.values_list("pk", flat=True)[:20])
    place = Place.objects.create(key="tie-town", name="Tie Town", country="FR")
    Letter.objects.filter(pk__in=tied).update(
        date="2014",
        date_precision="year",
        date_earliest=date(2014, 1, 1),
        date_latest=date(2014, 12, 31),
        place=place,
    )
    letters = Letter.objects.published()
    if "place" in params:
        params = {"place": place.key}
        letters = letters.filter(place=place)
    if "date_after" in params:
        letters = letters.filter(
            date_latest__gte=date(2014, 3, 1), date_earliest__lte=date(2014, 5, 31)
        )
    found, _sql = ordered(client, {**params, "page_size": 7})
    assert all(x.date_earliest for x in letters)  # no undated letter to place
    by_date = sorted(letters, key=lambda x: (x.date_earliest, x.identifier))
    assert found == [x.identifier for x in by_date]
    ties = [x.identifier for x in by_date if x.pk in tied]
    assert len(ties) == 20  # one first date shared across three pages of 7
    if connection.vendor == "sqlite":
        plan = page_plan(client, "/api/v1/letters/", params, 7)
        assert f"INDEX {index}" in plan, plan
        assert "TEMP B-TREE" not in plan, plan


def _letters_of(name) -> dict[int, set[int]]:
    """{entity id: its published letters, any role}, read from the role tables."""
    tables = (Signatory, Addressee, Mention) + ((Issuer,) if name != "person" else ())
    letters_of: dict[int, set[int]] = {}
    for table in tables:
        rows = table.objects.filter(
            letter__status="published", **{f"{name}__isnull": False}
        )
        for entity, letter in rows.values_list(f"{name}_id", "letter_id"):
            letters_of.setdefault(entity, set()).add(letter)
    return letters_of


def _facet_truth(name, size, letters=None) -> list[tuple[str, int]]:
    """The facet's groups from a plain reading of the role tables: the `size`
    entities in the most of these letters (all published ones by default), ties
    by id."""
    model = Person if name == "person" else Organisation
    keys = dict(model.objects.values_list("pk", "key"))
    counts = {
        entity: len(held if letters is None else held & letters)
        for entity, held in _letters_of(name).items()
    }
    ranked = sorted((e for e in counts if counts[e]), key=lambda e: (-counts[e], e))
    return [(keys[e], counts[e]) for e in ranked[:size]]


@pytest.mark.parametrize("name", ["person", "organisation"])
def test_whole_archive_facets_rank_by_the_stored_totals(client, corpus, name):
    """Without filters the person and organisation facets read each entity's stored
    total (footprint.TOTAL) from its index instead of counting role rows. The
    groups must be exactly the top of a full count, ties broken by id, at every
    size; and the corpus must hold entities whose total is neither their largest
    role count nor the sum of them (or the test proves nothing about distinctness)."""
    model = Person if name == "person" else Organisation
    roles = footprint.ROLE_COUNTS[model.__name__]
    overlapping = [
        entity for entity in model.objects.filter(letters_total__gt=0)
        if max(getattr(entity, c) for c in roles) < entity.letters_total
        < sum(getattr(entity, c) for c in roles)
    ]  # fmt: skip
    assert overlapping
    for size in (1, 3, 10, 40):
        with CaptureQueriesContext(connection) as queries:
            body = client.get(
                "/api/v1/letters/", {"facets": name, "facet_size": size, "page_size": 1}
            ).json()
        assert [(g["value"], g["count"]) for g in body["facets"][name]] == (
            _facet_truth(name, size)
        )
        sqls = [q["sql"] for q in queries.captured_queries]
        assert len(sqls) <= 4
        facet_sql = next(sql for sql in sqls if "ROW_NUMBER()" in sql)
        assert '"letters_total"' in facet_sql
        assert "COUNT(DISTINCT" not in facet_sql  # no role row read
    # A filter that keeps every letter counts the role rows: the same groups.
    every_kind = ",".join(LetterKind.values)
    with CaptureQueriesContext(connection) as queries:
        filtered = client.get(
            "/api/v1/letters/", {"facets": name, "facet_size": 10, "kind": every_kind}
        ).json()
    facet_sql = next(
        q["sql"] for q in queries.captured_queries if "ROW_NUMBER()" in q["sql"]
    )
    assert "COUNT(DISTINCT" in facet_sql
    assert filtered["count"] == Letter.objects.published().count()
    assert [(g["value"], g["count"]) for g in filtered["facets"][name]] == (
        _facet_truth(name, 10)
    )


def _poisoned(real, entity_id):
    """A branch of the facet query that answers one wrong group when it answers at
    all: which branch answered shows in the result."""

    def branch(*args, **kwargs):
        sql, params = real(*args, **kwargs)
        limit = sql[sql.rindex("LIMIT ") :]
        return f"SELECT {entity_id:d} AS entity, 99999 AS n {limit}", params[-1:]

    return branch


@pytest.mark.parametrize("name", ["person", "organisation"])
def test_a_set_with_few_letters_outside_is_counted_from_them(
    client, corpus, monkeypatch, name
):
    """A filtered set holding all but a few published letters: each entity's
    stored total less its letters outside the set (facets._by_total_less_outside),
    in the same one query; with more letters outside than facets.outside_bound
    allows, the role rows of the set are counted as before. Both must give the
    full count's groups, and each must be the branch that answered."""
    model = Person if name == "person" else Organisation
    some = model.objects.filter(letters_total__gt=0).order_by("pk").first().pk
    # The set: every published letter but those of the third of the facet, so that
    # an entity ranks whose total is below the third's (the bound on the totals
    # read must allow for the letters outside).
    letters_of = _letters_of(name)
    published = set(Letter.objects.published().values_list("pk", flat=True))
    third = sorted(letters_of, key=lambda e: (-len(letters_of[e]), e))[2]
    inside = published - letters_of[third]
    outside = len(letters_of[third])
    truth = _facet_truth(name, 3, inside)
    key = dict(model.objects.values_list("pk", "key"))
    below = {key[e] for e in letters_of if len(letters_of[e]) < outside}
    assert below & {value for value, _count in truth}
    params = {"facets": name, "facet_size": 3, f"exclude_{name}": key[third]}
    monkeypatch.setattr(facets, "OUTSIDE_FROM", 1)

    monkeypatch.setattr(facets, "outside_bound", lambda matched: outside)  # enough
    monkeypatch.setattr(
        facets, "_entity_counts", _poisoned(facets._entity_counts, some)
    )
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/letters/", params).json()
    assert body["count"] == len(inside)
    assert [(g["value"], g["count"]) for g in body["facets"][name]] == truth
    assert len(queries.captured_queries) <= 5
    monkeypatch.undo()

    monkeypatch.setattr(facets, "OUTSIDE_FROM", 1)
    monkeypatch.setattr(facets, "outside_bound", lambda matched: outside - 1)
    monkeypatch.setattr(
        facets,
        "_by_total_less_outside",
        _poisoned(facets._by_total_less_outside, some),
    )
    body = client.get("/api/v1/letters/", params).json()
    assert [(g["value"], g["count"]) for g in body["facets"][name]] == truth


@pytest.mark.parametrize("name", ["person", "organisation"])
def test_the_smaller_side_of_the_set_is_the_one_counted(
    client, corpus, monkeypatch, name
):
    """By default (facets.outside_bound) a set is counted from the letters it
    leaves out when those are no more than its own, else from its own: the most
    prolific entity's letters and their complement, one counted from each side.
    The branch not expected is poisoned, so the answer shows which one ran, and
    both give the plain count's groups."""
    model = Person if name == "person" else Organisation
    some = model.objects.filter(letters_total__gt=0).order_by("pk").first().pk
    letters_of = _letters_of(name)
    published = set(Letter.objects.published().values_list("pk", flat=True))
    first = sorted(letters_of, key=lambda e: (-len(letters_of[e]), e))[0]
    key = dict(model.objects.values_list("pk", "key"))
    sets = [
        ({name: key[first]}, letters_of[first]),
        ({f"exclude_{name}": key[first]}, published - letters_of[first]),
    ]
    sides = []
    for params, inside in sets:
        outside = len(inside) >= len(published - inside)
        sides.append(outside)
        other = "_entity_counts" if outside else "_by_total_less_outside"
        monkeypatch.setattr(facets, "OUTSIDE_FROM", 1)
        monkeypatch.setattr(facets, other, _poisoned(getattr(facets, other), some))
        body = client.get(
            "/api/v1/letters/", {**params, "facets": name, "facet_size": 5}
        ).json()
        monkeypatch.undo()
        assert body["count"] == len(inside)
        assert [(g["value"], g["count"]) for g in body["facets"][name]] == (
            _facet_truth(name, 5, inside)
        ), params
    assert sorted(sides) == [False, True]  # one set counted from each side


def test_the_year_facet_counts_each_letter_under_the_year_it_begins(client, corpus):
    """Year groups from the date's own text on SQLite (facets.YearOf), as Django's
    ExtractYear on PostgreSQL: the same years and counts as Python's, a year before
    1000 and undated letters included; a group's value is what `year=` takes."""
    early = Letter.objects.filter(synthetic=True).order_by("pk")[0]
    early.date = "0987-06"
    early.save()
    undated = Letter.objects.filter(synthetic=True).order_by("pk")[1]
    undated.date = ""
    undated.save()
    years: dict[int, int] = {}
    for start in Letter.objects.published().values_list("date_earliest", flat=True):
        if start is not None:
            years[start.year] = years.get(start.year, 0) + 1
    truth = sorted(years.items(), key=lambda item: (-item[1], item[0]))
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/letters/", {"facets": "year", "facet_size": 100})
    groups = body.json()["facets"]["year"]
    assert [(int(g["value"]), g["count"]) for g in groups] == truth
    assert not any("django_date_extract" in q["sql"] for q in queries.captured_queries)
    assert {"value": "0987", "label": "0987", "count": 1} in groups
    listed = client.get("/api/v1/letters/", {"year": "0987"}).json()  # its filter
    assert [r["identifier"] for r in listed["results"]] == [early.identifier]


def test_person_and_organisation_facets_agree_with_their_filters(client, corpus):
    """A facet group's count is the count its filter value lists: letters, not role
    rows, however many roles an entity has in one letter."""
    body = client.get(
        "/api/v1/letters/", {"facets": "person,organisation", "facet_size": 25}
    ).json()
    for name in ("person", "organisation"):
        groups = body["facets"][name]
        assert len(groups) == 25
        for group in groups:
            listed = client.get("/api/v1/letters/", {name: group["value"]}).json()
            assert listed["count"] == group["count"], (name, group)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/letters/",
        "/api/v1/letters/?ordering=-date",
        "/api/v1/letters/?date_after=2012-01&date_before=2013-06",
        "/api/v1/letters/?kind=letter,open_letter&ordering=-identifier",
        "/api/v1/persons/?ordering=-letters_signed",
        "/api/v1/organisations/?ordering=name",
        "/api/v1/places/?ordering=-letter_count",
        "/api/v1/offices/",
    ],
)
def test_later_pages_read_by_id_are_the_slices_of_one_long_page(client, corpus, path):
    """Pages after the first find their ids first and read those rows (a deferred
    join, letters.pagination): together they are the long page, in its order, and
    each takes as many queries as the first."""
    separator = "&" if "?" in path else "?"

    def page(size, number):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{path}{separator}page_size={size}&page={number}")
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        return body, len(queries.captured_queries)

    whole, _ = page(500, 1)
    expected = [row["url"] for row in whole["results"]]
    assert len(expected) > 21
    found, counts, number = [], set(), 1
    while True:
        body, queries = page(7, number)
        found += [row["url"] for row in body["results"]]
        counts.add(queries)
        assert body["count"] == whole["count"]
        if not body["next"]:
            break
        number += 1
    assert found == expected
    assert len(counts) == 1


def test_a_later_page_finds_its_ids_under_the_filters_and_reads_rows_by_id(
    client, corpus
):
    """The filters run once, in the id subquery; the rows are read by id."""
    person = Letter.objects.published().filter(signatories__person__isnull=False)
    key = person.values_list("signatories__person__key", flat=True).first()
    for number, deferred in ((1, False), (2, True)):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                "/api/v1/letters/",
                {"signatory": key, "page_size": 1, "page": number},
            )
        assert response.status_code == 200
        page = [q["sql"] for q in queries.captured_queries if "LIMIT 1" in q["sql"]]
        assert len(page) == 1, page
        inner = page[0].find("IN (SELECT")
        assert (inner >= 0 and "OFFSET 1)" in page[0][inner:]) is deferred, page[0]
        assert page[0].count("letters_signatory") == 1, page[0]


def _listed(client, params):
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/letters/", {**params, "page_size": 500}).json()
    counts = [q for q in queries.captured_queries if "COUNT(*) AS" in q["sql"]]
    return body, counts


def test_one_signatory_alone_is_counted_from_their_stored_footprint(client, corpus):
    """letters_signed (kept exact by letters.footprint) is the count of `signatory=`
    alone: no COUNT query. With any other filter, or several persons (whose letters
    may overlap), the letters are counted."""
    person = Person.objects.filter(synthetic=True).order_by("-letters_signed")[0]
    other = Person.objects.filter(synthetic=True).order_by("-letters_signed")[1]
    body, counts = _listed(client, {"signatory": person.key, "ordering": "-date"})
    assert body["count"] == len(body["results"]) == person.letters_signed > 0
    assert counts == []
    for params in (
        {"signatory": person.key, "year": "2012"},
        {"signatory": f"{person.key},{other.key}"},
        {"signatory": person.key, "kind": "letter"},
    ):
        body, counts = _listed(client, params)
        assert body["count"] == len(body["results"]) > 0, params
        assert len(counts) == 1, params

    # An unpublished letter leaves the count through the footprint's refresh.
    letter = Letter.objects.published().filter(signatories__person=person).first()
    letter.status = "in_review"
    letter.save()
    body, counts = _listed(client, {"signatory": str(person.pk)})
    assert body["count"] == len(body["results"]) == person.letters_signed - 1
    assert counts == []


def test_persons_of_an_organisation_are_its_signatories_and_office_holders(
    client, corpus
):
    """Named by key or by id (joined, not a subquery: see PersonFilter)."""
    from letters.models import Membership

    orgs = list(
        Organisation.objects.filter(is_public=True).order_by("-letters_signed_for")
    )
    checked = 0
    for org in orgs[:2] + orgs[-2:]:
        truth = set(
            Signatory.objects.filter(organisation=org, letter__status="published")
            .exclude(person=None)
            .values_list("person__key", flat=True)
        ) | set(
            Membership.objects.filter(organisation=org, status="published").values_list(
                "person__key", flat=True
            )
        )
        for value in (org.key, str(org.pk), f"{org.pk},{org.key}"):
            body = client.get(
                "/api/v1/persons/", {"organisation": value, "page_size": 500}
            ).json()
            assert {p["key"] for p in body["results"]} == truth, (org.key, value)
            assert body["count"] == len(truth)
        checked += bool(truth)
    assert checked >= 2


@pytest.mark.parametrize("roles", ["to", "cc", "to,cc", "cc,mentioned"])
def test_persons_by_addressee_role_are_those_of_the_role_table(
    client, corpus, curator, roles
):
    """role=to|cc reads each person's stored count of the role (letters_addressed,
    letters_copied), not the addressee rows (an IN over the role's rows read
    every one; a probe per person cost 42 against 16 ms at 100k letters). The
    persons must be exactly those with a published letter in the role; a letter
    unpublished must take away a person it was the only one of."""
    wanted = roles.split(",")

    def truth():
        named = set(
            Addressee.objects.filter(
                letter__status="published", role__in=wanted, person__isnull=False
            ).values_list("person_id", flat=True)
        )
        if "mentioned" in wanted:
            named |= set(
                Mention.objects.filter(
                    letter__status="published", person__isnull=False
                ).values_list("person_id", flat=True)
            )
        persons = Person.objects.filter(pk__in=named).order_by("sort_name", "id")
        return list(persons.values_list("key", flat=True))

    expected = truth()
    assert 50 < len(expected) < Person.objects.public().count()
    params = {"role": roles, "page_size": 50}
    found, _sql = ordered(client, params, "/api/v1/persons/", "key")
    assert found == expected
    if connection.vendor == "sqlite":
        with CaptureQueriesContext(connection) as queries:
            client.get("/api/v1/persons/", params)
        sql = [q["sql"] for q in queries.captured_queries]
        page = next(q for q in sql if "LIMIT 50" in q)
        count = next(q for q in sql if "COUNT(" in q)
        plan = query_plan(page)
        # The page walks the public persons in order and stops at 50.
        assert "INDEX person_public_name (is_public=?)" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
        for query in (page, count):
            assert "letters_addressee" not in query, query  # stored counts
    # Unpublish the letters of one person in this role: they leave the list.
    person = Person.objects.get(key=expected[0])
    letters = Addressee.objects.filter(person=person, role__in=wanted).values("letter")
    for letter in Letter.objects.filter(pk__in=letters):
        services.letter_set_status(letter=letter, status="draft", actor=curator)
    assert ordered(client, params, "/api/v1/persons/", "key")[0] == truth()
    assert person.key not in truth() or "mentioned" in wanted


@pytest.mark.parametrize(
    ("path", "params", "index"),
    [
        ("/api/v1/persons/", {}, "person_public_name"),
        ("/api/v1/persons/", {"ordering": "-letters_signed"}, "person_public_signed"),
        ("/api/v1/organisations/", {}, "organisation_public_name"),
    ],
)
@pytest.mark.sqlite
def test_public_lists_walk_their_index_from_the_public_rows(
    client, corpus, path, params, index
):
    """Django writes filter(is_public=True) as the bare column on SQLite, which is no
    equality on the indexes' first column: every public row was read and sorted
    for a page. PUBLIC (is_public IN (true)) is one."""
    plan = page_plan(client, path, params, 5)
    assert f"INDEX {index} (is_public=?)" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


@pytest.mark.postgresql
def test_letter_facets_of_a_set_read_only_columns_the_published_ids_index_holds(
    client, corpus
):
    """On PostgreSQL the published letters' id index carries the columns the kind,
    year, language and place facets group on (models.Letter, migration 0023), so
    the planner can count a filtered set's facets from the index without reading
    the letters' heap (at 100k letters it does: docs/benchmarks.md). Every column
    of the letters those facet queries read must be in the index, or be its
    condition (status): a facet that starts reading another column, or an index
    that loses one, fails here."""
    organisation = Organisation.objects.order_by("-letters_total").first()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            "/api/v1/letters/",
            {"organisation": organisation.key, "facets": "kind,year,language,place"},
        )
    assert response.status_code == 200
    facet = next(
        q["sql"] for q in queries.captured_queries if "ROW_NUMBER()" in q["sql"]
    )
    read = set(re.findall(r'"letters_letter"\."(\w+)"', facet))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_class AS i "
            "JOIN pg_attribute AS a ON a.attrelid = i.oid "
            "WHERE i.relname = 'letter_published_ids' AND a.attnum > 0"
        )
        held = {name for (name,) in cursor.fetchall()}
    assert {"kind", "date_earliest", "language", "place_id"} <= read
    assert read - held == {"status"}, (read, held)


@pytest.mark.sqlite
@pytest.mark.parametrize("name", ["person", "organisation"])
def test_entity_facets_of_a_set_read_who_is_in_its_letters_from_an_index(
    client, corpus, name
):
    """The person and organisation facets of a filtered set read every signatory
    and addressee row of its letters: (letter, person, organisation) indexes
    (models.LETTER_ENTITIES) answer them without reading a row."""
    signer = Person.objects.filter(synthetic=True).order_by("-letters_signed").first()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            "/api/v1/letters/", {"signatory": signer.key, "facets": name}
        )
    assert response.status_code == 200
    assert response.json()["facets"][name]
    facet = next(
        q["sql"] for q in queries.captured_queries if "COUNT(DISTINCT" in q["sql"]
    )
    plan = query_plan(facet)
    for table in ("signatory", "addressee"):
        assert f"COVERING INDEX {table}_letter_entities (letter_id=?" in plan, plan
