"""Downloading the published package: descriptor and zip, ETag and 304, rebuilt when
the data changed, linked from the API root and described in the schema."""

import hashlib
import io
import json
import zipfile

import pytest
import yaml

from datapackage import state
from letters import services
from letters.models import Letter


@pytest.fixture
def fresh(seeded):
    state.ensure_fresh()


def test_the_root_links_the_package(api, seeded):
    body = api("/api/v1/")
    assert body["datapackage"] == "http://testserver/api/v1/datapackage/"
    assert body["datapackage_zip"] == "http://testserver/api/v1/datapackage.zip"


def test_the_descriptor_is_served(api, seeded):
    body = api("/api/v1/datapackage/")
    assert body["name"] == "letters-archive"
    assert body["version"] == "1.0.0"
    assert len(body["resources"]) == 13


def test_the_zip_is_served_with_a_versioned_name_and_its_sha256_as_etag(client, seeded):
    response = client.get("/api/v1/datapackage.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert 'filename="letters-archive-1.0.0.zip"' in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    assert response["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        descriptor = json.loads(archive.read("letters-archive/datapackage.json"))
    assert descriptor["version"] == "1.0.0"


def test_if_none_match_gives_304_without_touching_the_database(
    client, fresh, django_assert_num_queries
):
    etag = client.get("/api/v1/datapackage.zip")["ETag"]
    with django_assert_num_queries(0):
        response = client.get("/api/v1/datapackage.zip", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response["ETag"] == etag
    assert response.content == b""
    other = client.get("/api/v1/datapackage.zip", HTTP_IF_NONE_MATCH='"other"')
    assert other.status_code == 200


def test_descriptor_has_its_own_etag_and_304(client, fresh):
    etag = client.get("/api/v1/datapackage/")["ETag"]
    assert (
        client.get("/api/v1/datapackage/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    )


def test_publishing_in_the_admin_rebuilds_the_package_on_next_download(
    api, fresh, curator, django_capture_on_commit_callbacks
):
    letter = Letter.objects.get(identifier="adv-0003")
    with django_capture_on_commit_callbacks(execute=True):
        services.letter_set_status(letter=letter, status="draft", actor=curator)
    assert state.stale_token() is not None
    body = api("/api/v1/datapackage/")
    assert body["version"] == "1.0.1"
    letters = next(r for r in body["resources"] if r["name"] == "letters")
    assert state.stale_token() is None
    assert letters["bytes"] < 40000


def test_a_stale_package_is_never_served_as_fresh(
    client, fresh, django_capture_on_commit_callbacks
):
    etag = client.get("/api/v1/datapackage.zip")["ETag"]
    with django_capture_on_commit_callbacks(execute=True):
        letter = Letter.objects.get(identifier="adv-0001")
        letter.summary = "Corrected."
        letter.save()
    response = client.get("/api/v1/datapackage.zip", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_a_package_published_without_its_zip_is_rebuilt_for_download(
    client, seeded, settings
):
    from datapackage import build

    build.build(target=settings.DATAPACKAGE_DIR, make_zip=False)
    assert not (settings.DATAPACKAGE_DIR / ".zip.sha256").exists()
    response = client.get("/api/v1/datapackage.zip")
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    assert response["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert client.get("/api/v1/datapackage/").status_code == 200


def test_the_schema_describes_the_download_endpoints(client):
    spec = yaml.safe_load(client.get("/api/schema/").content)
    zip_op = spec["paths"]["/api/v1/datapackage.zip"]["get"]
    assert "application/zip" in zip_op["responses"]["200"]["content"]
    assert "304" in zip_op["responses"]
    assert "/api/v1/datapackage/" in spec["paths"]
