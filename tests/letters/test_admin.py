"""The curation admin renders for a curator (staff with model permissions, not a
superuser), and its searches ignore accents and case."""

import pytest
from django.urls import reverse

from letters.models import Letter, Organisation, Person, Signatory

CHANGELISTS = [
    "letter",
    "person",
    "organisation",
    "place",
    "post",
    "membership",
    "signatory",
]


@pytest.mark.parametrize("model", CHANGELISTS)
def test_changelists_render(curator_client, seeded, model):
    response = curator_client.get(reverse(f"admin:letters_{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("model", "lookup"),
    [
        ("letter", {"identifier": "adv-0001"}),
        ("person", {"key": "jonas-fernandez"}),
        ("organisation", {"key": "s-and-d"}),
        ("membership", {"key": "manuel-valls--prime-minister"}),
    ],
)
def test_change_forms_and_history_render(curator_client, seeded, model, lookup):
    from django.apps import apps

    obj = apps.get_model("letters", model).objects.get(**lookup)
    change = curator_client.get(reverse(f"admin:letters_{model}_change", args=[obj.pk]))
    assert change.status_code == 200
    history = curator_client.get(
        reverse(f"admin:letters_{model}_history", args=[obj.pk])
    )
    assert history.status_code == 200
    assert "seed-loader" in history.content.decode()


def test_letter_form_shows_inlines_and_keeps_source_fields_read_only(
    curator_client, seeded
):
    letter = Letter.objects.get(identifier="adv-0001")
    response = curator_client.get(
        reverse("admin:letters_letter_change", args=[letter.pk])
    )
    html = response.content.decode()
    form = response.context["adminform"].form
    assert "transcription" not in form.fields
    assert "identifier" not in form.fields
    assert "source_sha256" not in form.fields
    assert letter.source_sha256 in html
    assert "JOSEF WEIDENMOLAR" in html  # signatory inline
    assert "signatories-TOTAL_FORMS" in html
    assert "addressees-TOTAL_FORMS" in html
    assert "issuers-TOTAL_FORMS" in html
    assert "mentions-TOTAL_FORMS" in html


def search(client, model, term):
    response = client.get(reverse(f"admin:letters_{model}_changelist"), {"q": term})
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


@pytest.mark.parametrize(
    "term", ["jonas fernandez", "Jonás Fernández", "JONAS", "fernández"]
)
def test_person_search_ignores_accents_and_case(curator_client, seeded, term):
    found = search(curator_client, "person", term)
    assert Person.objects.get(key="jonas-fernandez") in found


@pytest.mark.parametrize("term", ["boguslaw", "Bogusław Liberadzki", "kozlowska"])
def test_person_search_finds_other_spellings(curator_client, seeded, term):
    found = {p.key for p in search(curator_client, "person", term)}
    assert found & {"boguslaw-liberadzki", "lyudmyla-kozlovska"}


def test_person_search_that_matches_nobody_is_empty(curator_client, seeded):
    assert search(curator_client, "person", "zzzz nobody") == []


@pytest.mark.parametrize("term", ["conseil d'etat", "Conseil d’État", "S&D"])
def test_organisation_search_ignores_accents(curator_client, seeded, term):
    assert search(curator_client, "organisation", term)


def test_letter_search_through_peoples_folded_names(curator_client, seeded):
    found = {
        letter.identifier
        for letter in search(curator_client, "letter", "jonas fernandez")
    }
    assert found == {"adv-0001"}


def test_letter_filters(curator_client, seeded):
    url = reverse("admin:letters_letter_changelist")
    hrw = Organisation.objects.get(key="human-rights-watch")
    response = curator_client.get(url, {"organisation": hrw.pk})
    assert [x.identifier for x in response.context["cl"].result_list] == ["adv-0005"]
    response = curator_client.get(url, {"year": "2016"})
    assert [x.identifier for x in response.context["cl"].result_list] == ["adv-0003"]
    response = curator_client.get(url, {"kind__exact": "press_release"})
    assert [x.identifier for x in response.context["cl"].result_list] == ["adv-0004"]


def test_person_page_links_the_letters(curator_client, seeded):
    fabius = Person.objects.get(key="laurent-fabius")
    html = curator_client.get(
        reverse("admin:letters_person_change", args=[fabius.pk])
    ).content.decode()
    for identifier in ("adv-0001", "adv-0005"):
        letter = Letter.objects.get(identifier=identifier)
        assert reverse("admin:letters_letter_change", args=[letter.pk]) in html


def test_autocomplete_finds_people_without_accents(curator_client, seeded):
    response = curator_client.get(
        reverse("admin:autocomplete"),
        {
            "term": "jonas",
            "app_label": "letters",
            "model_name": "signatory",
            "field_name": "person",
        },
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Jonás Fernández"]


def test_unpublish_and_publish_actions_keep_history_under_the_curator(
    curator_client, curator, seeded
):
    letter = Letter.objects.get(identifier="adv-0002")
    url = reverse("admin:letters_letter_changelist")
    curator_client.post(url, {"action": "unpublish", "_selected_action": [letter.pk]})
    letter.refresh_from_db()
    assert letter.status == "draft"
    latest = letter.history.latest()
    assert (latest.history_user, latest.status) == (curator, "draft")
    curator_client.post(url, {"action": "publish", "_selected_action": [letter.pk]})
    letter.refresh_from_db()
    assert letter.status == "published"


def _submitted(response) -> dict:
    """The data an admin form page would post back unchanged, inlines included."""

    def values(form):
        data = {}
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            data[form.add_prefix(name)] = "" if value is None else value
        return data

    data = values(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(values(formset.management_form))
        for form in formset.forms:
            data.update(values(form))
    return data


def test_editing_a_signatory_in_the_admin_is_recorded(curator_client, curator, seeded):
    signatory = Signatory.objects.get(letter__identifier="adv-0001", position=11)
    url = reverse("admin:letters_signatory_change", args=[signatory.pk])
    data = _submitted(curator_client.get(url))
    data.update(person="", certainty="unidentified")
    response = curator_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    signatory.refresh_from_db()
    assert signatory.person is None
    assert signatory.history.latest().history_user == curator


def test_anonymous_users_are_sent_to_login(client, seeded):
    response = client.get(reverse("admin:letters_letter_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_without_permissions_cannot_see_letters(
    client, django_user_model, seeded
):
    user = django_user_model.objects.create_user(
        "visitor", password="x" * 20, is_staff=True
    )
    client.force_login(user)
    assert client.get(reverse("admin:letters_letter_changelist")).status_code == 403


@pytest.mark.parametrize(
    ("model", "other", "fields"),
    [
        ("person", "organisation", {"display_name": "N", "sort_name": "N"}),
        ("organisation", "person", {"name": "N", "kind": "ngo"}),
    ],
)
def test_the_admin_refuses_a_key_of_the_other_kind(
    curator_client, seeded, model, other, fields
):
    """Persons and organisations share one key space: the add form says which
    record holds the key, and nothing is saved."""
    from django.apps import apps

    Model, Other = (apps.get_model("letters", m) for m in (model, other))
    holder = Other.objects.order_by("key").first()
    url = reverse(f"admin:letters_{model}_add")
    data = _submitted(curator_client.get(url))
    data.update(fields, key=holder.key)
    before = Model.objects.count()

    response = curator_client.post(url, data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["key"], errors
    assert f"is already the key of the {other} &quot;{holder}&quot;" in (
        response.content.decode()
    )
    assert Model.objects.count() == before
    data["key"] = "a-new-key"
    assert curator_client.post(url, data).status_code == 302  # the only fault
    assert Model.objects.count() == before + 1
