"""Expensive requests are bounded: past the time limit a request gets a 503 that says
so, on both engines, and the connection stays usable."""

import pytest
from django.db import connection

from letters import limits


@pytest.mark.sqlite
def test_a_slow_sqlite_query_is_interrupted_with_a_503(
    client, seeded, settings, monkeypatch
):
    settings.API_QUERY_TIME_LIMIT_MS = 50
    clock = iter(range(0, 10**9, 1000))  # each reading is a second later
    monkeypatch.setattr(limits.time, "monotonic", lambda: next(clock))
    response = client.get("/api/v1/letters/", {"facets": "person,organisation"})
    assert response.status_code == 503
    assert "50 ms" in response.json()["detail"]
    assert response["Retry-After"] == "1"
    monkeypatch.undo()
    assert client.get("/api/v1/letters/").status_code == 200


@pytest.mark.postgresql
def test_a_slow_postgresql_query_is_cancelled_with_a_503(
    client, seeded, settings, monkeypatch
):
    settings.API_QUERY_TIME_LIMIT_MS = 50

    def slow(queryset, names, size, **options):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(2)")

    from letters import facets

    monkeypatch.setattr(facets, "compute", slow)
    response = client.get("/api/v1/letters/", {"facets": "kind"})
    assert response.status_code == 503


def test_requests_within_the_limit_are_unaffected(client, seeded, settings):
    settings.API_QUERY_TIME_LIMIT_MS = 3000
    assert client.get("/api/v1/letters/", {"search": "fabius"}).status_code == 200


def test_the_admin_is_not_limited(curator_client, seeded, settings, monkeypatch):
    settings.API_QUERY_TIME_LIMIT_MS = 1
    clock = iter(range(0, 10**9, 1000))
    monkeypatch.setattr(limits.time, "monotonic", lambda: next(clock))
    assert curator_client.get("/admin/letters/letter/").status_code == 200
