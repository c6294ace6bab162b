"""The JSON renderer: orjson's speed, DRF's output. Every body it writes decodes to the
same value DRF's own JSONRenderer writes, including the values orjson does not know."""

import datetime
import decimal
import json
import uuid

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from letters.renderers import FastJSONRenderer

PATHS = [
    "/api/v1/letters/",
    "/api/v1/letters/?page_size=1&facets=kind,year,place,organisation",
    "/api/v1/persons/",
    "/api/v1/organisations/",
    "/api/v1/offices/",
    "/api/v1/letters/?date_after=not-a-date",
]


@pytest.mark.parametrize("path", PATHS)
def test_api_bodies_are_what_drfs_renderer_writes(client, seeded, path):
    response = client.get(path, HTTP_ACCEPT="application/json")
    assert response["Content-Type"] == "application/json"
    assert response.content == FastJSONRenderer().render(response.data)
    assert json.loads(response.content) == json.loads(
        JSONRenderer().render(response.data)
    )


def test_values_orjson_does_not_know_are_written_as_drf_writes_them():
    data = {
        "lazy": gettext_lazy("This field is required."),
        "decimal": decimal.Decimal("1.50"),
        "moment": datetime.datetime(2015, 5, 18, 9, 30, 0, 123456, tzinfo=datetime.UTC),
        "day": datetime.date(2015, 5, 18),
        "uuid": uuid.UUID(int=7),
        "tuple": (1, 2),
    }
    ours = json.loads(FastJSONRenderer().render(data))
    assert ours == json.loads(JSONRenderer().render(data))
    assert ours["moment"] == "2015-05-18T09:30:00.123456Z"  # DRF's format, not orjson's
    assert ours["lazy"] == "This field is required."


def test_line_separators_are_escaped_so_the_body_is_also_javascript():
    body = FastJSONRenderer().render({"text": "a\u2028b\u2029c"})
    assert b"\\u2028" in body
    assert b"\\u2029" in body
    assert "\u2028".encode() not in body
    assert json.loads(body) == {"text": "a\u2028b\u2029c"}


def test_indented_output_is_left_to_drf():
    body = FastJSONRenderer().render({"a": [1]}, "application/json; indent=4")
    assert body == b'{\n    "a": [\n        1\n    ]\n}'


def test_unknown_types_are_refused_not_guessed():
    with pytest.raises(TypeError):
        FastJSONRenderer().render({"x": object()})
