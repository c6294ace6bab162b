"""The OpenAPI contract: the schema is valid, documents what the API does, and real
responses conform to it. Every list runs a bounded number of queries."""

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from letters import serializers
from letters.models import Letter, Membership, Organisation, Person, Place
from letters.querysets import attach_roles


@pytest.fixture(scope="module")
def spec(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_is_valid_openapi_3_1(spec):
    validate(spec)
    assert spec["openapi"] == "3.1.0"


def _response_schema(spec, path, status="200"):
    operation = spec["paths"][path]["get"]
    return operation["responses"][status]["content"]["application/json"]["schema"]


def conforms(spec, path, body, status="200"):
    schema = {**_response_schema(spec, path, status), "components": spec["components"]}
    OAS31Validator(schema).validate(body)


def test_every_filter_and_enum_is_documented(spec):
    params = {
        p["name"]: p for p in spec["paths"]["/api/v1/letters/"]["get"]["parameters"]
    }
    for name in [
        "date_after",
        "date_before",
        "year",
        "kind",
        "exclude_kind",
        "language",
        "place",
        "person",
        "role",
        "exclude_person",
        "signatory",
        "addressee",
        "cc",
        "organisation",
        "exclude_organisation",
        "search",
        "ordering",
        "facets",
        "facet_size",
        "page",
        "page_size",
        "format",
    ]:
        assert name in params, name
        assert params[name].get("description"), name
    kinds = params["kind"]["schema"]["items"]["enum"]
    assert set(kinds) == {
        "letter",
        "open_letter",
        "press_release",
        "statement",
        "petition",
        "email",
        "other",
    }
    responses = spec["paths"]["/api/v1/letters/"]["get"]["responses"]
    assert {"200", "400", "404", "429"} <= set(responses)


@pytest.mark.parametrize("resource", ["persons", "organisations", "places", "offices"])
def test_numeric_path_ids_are_documented_as_integers(spec, resource):
    """A fuzzer generates ids from the schema: a string id would mostly produce 400s
    and leave the real lookups untested."""
    params = spec["paths"][f"/api/v1/{resource}/{{id}}/"]["get"]["parameters"]
    (id_param,) = [p for p in params if p["name"] == "id"]
    assert id_param["in"] == "path"
    assert id_param["schema"]["type"] == "integer"


def test_docs_are_served_locally_without_a_cdn(client):
    html = client.get("/api/docs/").content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in html
    assert "cdn.jsdelivr" not in html
    assert "unpkg.com" not in html
    asset = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css")
    assert asset.status_code == 200


@pytest.mark.parametrize(
    ("path", "template", "params"),
    [
        ("/api/v1/letters/", "/api/v1/letters/", {"facets": "kind,year,place,person"}),
        ("/api/v1/letters/adv-0001/", "/api/v1/letters/{identifier}/", {}),
        ("/api/v1/persons/", "/api/v1/persons/", {}),
        ("/api/v1/organisations/", "/api/v1/organisations/", {}),
        ("/api/v1/places/", "/api/v1/places/", {}),
        ("/api/v1/offices/", "/api/v1/offices/", {}),
    ],
)
def test_real_responses_conform_to_the_schema(
    spec, api, seeded, path, template, params
):
    conforms(spec, template, api(path, **params))


@pytest.mark.parametrize(
    ("model", "lookup", "template", "prefix"),
    [
        (Person, {"key": "manuel-valls"}, "/api/v1/persons/{id}/", "persons"),
        (
            Organisation,
            {"key": "s-and-d"},
            "/api/v1/organisations/{id}/",
            "organisations",
        ),
        (Place, {"key": "paris"}, "/api/v1/places/{id}/", "places"),
        (
            Membership,
            {"key": "manuel-valls--prime-minister"},
            "/api/v1/offices/{id}/",
            "offices",
        ),
    ],
)
def test_detail_responses_conform(spec, api, seeded, model, lookup, template, prefix):
    obj = model.objects.get(**lookup)
    conforms(spec, template, api(f"/api/v1/{prefix}/{obj.pk}/"))


def test_error_responses_conform(spec, api, seeded):
    conforms(
        spec, "/api/v1/letters/", api("/api/v1/letters/", status=400, kind="x"), "400"
    )
    conforms(
        spec,
        "/api/v1/letters/{identifier}/",
        api("/api/v1/letters/nope/", status=404),
        "404",
    )


# The first row of each list has every kind of related record, so that page_size=1
# runs every prefetch that page_size=500 runs.
LISTS = [
    "/api/v1/letters/?ordering=-identifier",
    "/api/v1/letters/?ordering=-identifier"
    "&facets=kind,year,place,organisation,language,person",
    "/api/v1/letters/?ordering=-identifier&search=fabius&organisation=fr-justice",
    "/api/v1/letters/?ordering=-identifier&search=fabius&date_after=2015"
    "&date_before=2016&place=paris&facets=kind,organisation",
    "/api/v1/letters/?ordering=-identifier&person=laurent-fabius&year=2015"
    "&organisation=fr-justice&search=extradition&facets=person,year,place",
    "/api/v1/persons/?search=valls",
    "/api/v1/persons/?ordering=-letters_signed",
    "/api/v1/organisations/?ordering=-letters_signed_for",
    "/api/v1/places/",
    "/api/v1/offices/",
]


@pytest.mark.parametrize("path", LISTS)
def test_list_query_count_does_not_depend_on_page_size(client, seeded, path):
    counts = []
    for size in (1, 500):
        separator = "&" if "?" in path else "?"
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"{path}{separator}page_size={size}").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 5  # with facets too: all the facets asked for are one query


def test_the_letters_page_needs_few_queries(
    client, seeded, django_assert_max_num_queries
):
    with django_assert_max_num_queries(3):  # count, page, all roles in one UNION
        client.get("/api/v1/letters/?page_size=500")


@pytest.mark.parametrize(
    "serializer_class",
    [serializers.LetterSerializer, serializers.LetterDetailSerializer],
)
def test_the_written_out_letter_representation_equals_drfs(seeded, serializer_class):
    """LetterSerializer writes its fields out by hand for speed; DRF's generic walk
    over the declared fields must give exactly the same document."""
    from rest_framework import serializers as drf
    from rest_framework.test import APIRequestFactory

    request = APIRequestFactory().get("/api/v1/letters/")
    letters = attach_roles(Letter.objects.for_api().order_by("identifier"))
    assert letters
    for letter in letters:
        serializer = serializer_class(letter, context={"request": request})
        fast = serializer.to_representation(letter)
        generic = drf.ModelSerializer.to_representation(serializer, letter)
        assert list(fast) == serializer_class.Meta.fields
        assert fast == dict(generic)
