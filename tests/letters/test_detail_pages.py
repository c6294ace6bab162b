"""A person's or organisation's page embeds the first letters of each role and links
each role's whole list in the letters API: bounded, whatever the record's footprint
(a prolific signatory's page at 100k letters was 10 MB)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from letters import filters, synthetic, views
from letters.models import Organisation, Person

FIRST = 5

PERSON_ROLES = {
    "signed": "letters_signed",
    "received": "letters_received",
    "mentioned_in": "letters_mentioned_in",
}
ORGANISATION_ROLES = {
    "issued": "letters_issued",
    "signed_for": "letters_signed_for",
    "received": "letters_received",
    "mentioned_in": "letters_mentioned_in",
}


@pytest.fixture
def corpus(seeded, monkeypatch):
    synthetic.generate(letters=300, seed=7)
    monkeypatch.setattr(views, "DETAIL_LETTERS", FIRST)


def _records(model, column):
    """The record with the most letters in that role, and one with a few."""
    rows = model.objects.filter(**{f"{column}__gt": 0}).order_by(f"-{column}", "id")
    return [rows.first(), rows.filter(**{f"{column}__lte": FIRST}).first()]


@pytest.mark.parametrize(
    ("model", "path", "roles"),
    [
        (Person, "/api/v1/persons/", PERSON_ROLES),
        (Organisation, "/api/v1/organisations/", ORGANISATION_ROLES),
    ],
)
def test_a_page_embeds_the_first_letters_of_each_role_and_links_them_all(
    client, corpus, model, path, roles
):
    checked = 0
    for role, column in roles.items():
        for record in _records(model, column):
            if record is None:
                continue
            body = client.get(f"{path}{record.pk}/").json()
            embedded = list(
                dict.fromkeys(x["identifier"] for x in body["letters"][role])
            )
            # (the test client would replace the link's query by a data dict)
            listed = client.get(f"{body['letter_lists'][role]}&page_size=500").json()
            everything = [x["identifier"] for x in listed["results"]]
            assert listed["count"] == body[column] == getattr(record, column)
            assert embedded == everything[: len(embedded)], (record, role)
            assert len(embedded) == min(FIRST, len(everything)), (record, role)
            checked += getattr(record, column) > FIRST
    assert checked >= len(roles) - 1  # most roles had more letters than the page shows


@pytest.mark.parametrize("walk", [False, True])
def test_both_plans_embed_the_same_first_letters(client, corpus, monkeypatch, walk):
    """On SQLite a record with many letters has them found by walking the letters in
    date order (as the letters list does); the first letters are the same."""
    person = Person.objects.order_by("-letters_signed").first()
    monkeypatch.setattr(filters, "PROLIFIC", 0 if walk else 10**9)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"/api/v1/persons/{person.pk}/").json()
    # Read before the next request: the test client's next request clears the log.
    walked = any(
        '+"letters_letter"."id" IN (SELECT' in q["sql"]
        for q in queries.captured_queries
    )
    assert walked == (walk and connection.vendor == "sqlite")
    signed = [x["identifier"] for x in body["letters"]["signed"]]
    listed = client.get(body["letter_lists"]["signed"]).json()["results"]
    assert signed == [x["identifier"] for x in listed][:FIRST]
