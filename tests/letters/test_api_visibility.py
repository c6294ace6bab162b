"""Only published letters are public, and a person or organisation only through a
published letter or office: a draft, and the people only it involves, are absent from
lists, details, nested roles, filters, facets, counts, search and CSV."""

import json

import pytest

from letters.models import Addressee, Letter, Membership, Mention
from tests.factories import (
    LetterFactory,
    OrganisationFactory,
    PersonFactory,
    SignatoryFactory,
)

SECRET = "Zyxwvut"


@pytest.fixture
def draft(seeded):
    """A draft letter signed by a person and cc'd to an organisation that nothing
    published involves, cc'd also to Laurent Fabius, with secret contact details."""
    person = PersonFactory(
        key="secret-signer",
        display_name=f"{SECRET} Signer",
        sort_name=f"Signer, {SECRET}",
        email="secret.signer@example.org",
        telephone="+00 0000 SECRET",
        notes=f"{SECRET} person note",
    )
    body = OrganisationFactory(
        key="secret-body", name=f"{SECRET} Body", email="body@example.org"
    )
    letter = LetterFactory(
        identifier="draft-0001",
        status="draft",
        title=f"{SECRET} letter",
        date="2015-05-20",
        notes=f"{SECRET} curator note",
        transcription=f"{SECRET} text",
    )
    SignatoryFactory(letter=letter, person=person, position=1, organisation=body)
    Addressee.objects.create(
        letter=letter,
        position=1,
        role="cc",
        person_id=Letter.objects.get(identifier="adv-0005")
        .addressees.get(role="cc", position=2)
        .person_id,
    )
    Addressee.objects.create(letter=letter, position=2, role="to", organisation=body)
    Mention.objects.create(letter=letter, person=person)
    Membership.objects.create(
        key="secret-membership",
        person=person,
        organisation=body,
        role="Member",
        status="draft",
    )
    return {"letter": letter, "person": person, "body": body}


PUBLIC_PATHS = [
    "/api/v1/letters/",
    "/api/v1/letters/?search=zyxwvut",
    "/api/v1/letters/?date_after=2015-05-01&date_before=2015-05-31",
    "/api/v1/letters/?cc=laurent-fabius",
    "/api/v1/letters/?facets=kind,year,place,organisation,language,person"
    "&facet_size=100",
    "/api/v1/letters/?format=csv",
    "/api/v1/letters/?signatory=secret-signer",
    "/api/v1/letters/?organisation=secret-body",
    "/api/v1/persons/?page_size=500",
    "/api/v1/persons/?search=zyxwvut",
    "/api/v1/persons/?format=csv",
    "/api/v1/organisations/?page_size=500",
    "/api/v1/organisations/?format=csv",
    "/api/v1/places/",
    "/api/v1/offices/?page_size=500",
    "/api/v1/offices/?format=csv",
    "/api/v1/",
    "/api/schema/",
    "/api/docs/",
    "/api/v1/datapackage/",
    "/api/v1/datapackage.zip",
]


def text_of(response) -> str:
    body = (
        b"".join(response.streaming_content)
        if response.streaming
        else (response.content)
    )
    if body.startswith(b"PK"):  # the zip: search every member, uncompressed
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            body = b"".join(archive.read(name) for name in archive.namelist())
    return body.decode()


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_the_draft_and_its_people_appear_on_no_public_path(client, draft, path):
    response = client.get(path)
    assert response.status_code == 200
    text = text_of(response)
    for secret in (
        SECRET,
        SECRET.lower(),
        "draft-0001",
        "secret-signer",
        "secret-body",
        "example.org",
    ):
        assert secret not in text


def test_filters_on_draft_only_people_find_nothing(api, draft):
    assert api("/api/v1/letters/", signatory="secret-signer")["count"] == 0
    assert api("/api/v1/letters/", organisation="secret-body")["count"] == 0


def test_draft_details_are_404_not_403(api, draft):
    api("/api/v1/letters/draft-0001/", status=404)
    api(f"/api/v1/persons/{draft['person'].pk}/", status=404)
    api(f"/api/v1/organisations/{draft['body'].pk}/", status=404)
    membership = Membership.objects.get(key="secret-membership")
    api(f"/api/v1/offices/{membership.pk}/", status=404)


def test_counts_ignore_the_draft(api, draft):
    fabius = api("/api/v1/persons/", search="fabius")["results"][0]
    assert fabius["letters_received"] == 2  # not 3: the draft also cc's him
    detail = api(f"/api/v1/persons/{fabius['id']}/")
    assert "draft-0001" not in json.dumps(detail)
    assert api("/api/v1/letters/")["count"] == 5


def test_publishing_makes_the_draft_and_its_people_public(api, draft):
    Letter.objects.filter(pk=draft["letter"].pk).update(status="published")
    assert api("/api/v1/letters/", signatory="secret-signer")["count"] == 1
    api(f"/api/v1/persons/{draft['person'].pk}/")
    body = api(f"/api/v1/organisations/{draft['body'].pk}/")
    # contact details and notes stay private even once public
    assert "example.org" not in json.dumps(body)
    person = api(f"/api/v1/persons/{draft['person'].pk}/")
    assert "SECRET" not in json.dumps(person)
    assert f"{SECRET} person note" not in json.dumps(person)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/letters/adv-0002/",
        "/api/v1/letters/?format=csv",
        "/api/v1/letters/?page_size=500",
    ],
)
def test_curator_notes_never_appear(client, seeded, path):
    note = Letter.objects.get(identifier="adv-0002").notes
    assert note  # the seeds have curator notes
    text = text_of(client.get(path))
    assert note not in text
    assert "slip of the source" not in text
