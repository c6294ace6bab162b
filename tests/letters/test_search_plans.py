"""A letter search has two plans on each engine (letters.search.text_match_q), chosen
by a bounded probe. SQLite: driven from the full-text matches for a rare word, tested
against the letters of the other filters for a common one. PostgreSQL: a rare word's
matches as literal ids, a common word as a condition on the stored document. Both
must find exactly the same letters, in the same order, and a list request stays
within five queries whatever it combines."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from letters import search, synthetic
from letters.models import Letter, Organisation, Person

L = "/api/v1/letters/"


@pytest.fixture
def corpus(seeded):
    synthetic.generate(letters=300, seed=5)


def ordered(client, params):
    """Identifiers across pages in the API's order, and the SQL that ran."""
    found, page = [], 1
    with CaptureQueriesContext(connection) as queries:
        while True:
            response = client.get(L, {**params, "page": page, "page_size": 100})
            assert response.status_code == 200, response.content[:300]
            body = response.json()
            found += [letter["identifier"] for letter in body["results"]]
            if not body["next"]:
                return found, [q["sql"] for q in queries.captured_queries]
            page += 1


PROBES = (
    "SELECT 1 FROM letters_letter_fts",  # SQLite
    "SELECT id FROM letters_letter WHERE search_document",  # PostgreSQL
)


def plan(sql: list[str]) -> set[str]:
    used = set()
    for statement in sql:
        if any(probe in statement for probe in PROBES):
            continue
        if "letters_letter_fts MATCH" in statement:
            # "common" tests each letter (+id, so that SQLite's planner does not
            # drive from the matches), also inside a later page's id subquery.
            common = re.search(r'\+("letters_letter"|U\d+)\."id" IN', statement)
            used.add("common" if common else "rare")
        elif "search_document @@" in statement:
            used.add("common")
        elif (
            connection.vendor == "postgresql"
            and statement.startswith("SELECT COUNT(*)")
            and '"letters_letter"."id" IN (' in statement
        ):
            used.add("rare")  # the probe's matches, as literal ids
    return used


@pytest.mark.parametrize(
    "params",
    [
        {"search": "extradition"},
        {"search": "ablyazov", "year": "2015"},
        {"search": "extradi minist", "date_after": "2012-01", "date_before": "2016"},
        {"search": "extradition", "ordering": "-title"},
        {"search": "fabius"},
    ],
)
def test_both_plans_find_the_same_letters_in_the_same_order(
    client, corpus, monkeypatch, params
):
    monkeypatch.setattr(search, "COMMON_MATCHES", 10**9)
    rare, sql = ordered(client, params)
    assert plan(sql) == {"rare"}
    monkeypatch.setattr(search, "COMMON_MATCHES", 0)
    common, sql = ordered(client, params)
    assert plan(sql) == {"common"}
    assert rare == common
    assert rare, "the comparison was between empty results"


def test_the_probe_sends_a_word_in_most_letters_to_the_common_plan(
    client, corpus, monkeypatch
):
    words = ["extradition"]
    # The probe counts index entries, drafts included: what the planner would read.
    in_letters = Letter.objects.filter(search.text_match_q(words)).count()
    assert in_letters > 50
    monkeypatch.setattr(search, "COMMON_MATCHES", in_letters - 1)
    assert search.probe(words).common
    assert plan(ordered(client, {"search": "extradition"})[1]) == {"common"}
    monkeypatch.setattr(search, "COMMON_MATCHES", in_letters)
    assert not search.probe(words).common
    assert plan(ordered(client, {"search": "extradition"})[1]) == {"rare"}


def test_search_with_every_plan_query_stays_within_five_queries(client, corpus):
    person = Person.objects.filter(synthetic=True).order_by("-letters_signed").first()
    org = (
        Organisation.objects.filter(synthetic=True)
        .order_by("-letters_signed_for")
        .first()
    )
    params = {
        "search": "extradition",
        "signatory": person.key,
        "organisation": org.key,
        "date_after": "2012-01",
        "date_before": "2012-06",
        "page_size": 500,
    }
    with CaptureQueriesContext(connection) as queries:
        response = client.get(L, params)
    assert response.status_code == 200
    assert len(queries.captured_queries) <= 5
    # The role filters drive: the search is tested against their letters, no probe.
    assert plan([q["sql"] for q in queries.captured_queries]) == {"common"}


@pytest.mark.parametrize("threshold", [10**9, 0])
def test_facets_of_a_search_are_those_of_its_letters(
    client, corpus, monkeypatch, threshold
):
    """The facets' role subqueries alias the letters table: the search must name its
    column through the ORM in both plans (a hard-coded table name broke this)."""
    monkeypatch.setattr(search, "COMMON_MATCHES", threshold)
    params = {"search": "extradition", "facets": "place,organisation,person,year"}
    body = client.get(L, {**params, "page_size": 500}).json()
    letters = body["results"]
    assert body["count"] == len(letters) > 0
    places = {}
    for letter in letters:
        if letter["place"]:
            key = letter["place"]["key"]
            places[key] = places.get(key, 0) + 1
    facet = {row["value"]: row["count"] for row in body["facets"]["place"]}
    top = sorted(places.items(), key=lambda kv: -kv[1])[: len(facet)]
    assert {k: places[k] for k in facet} == facet
    assert sorted(facet.values(), reverse=True) == [n for _, n in top]
    assert body["facets"]["person"]
    assert body["facets"]["organisation"]
