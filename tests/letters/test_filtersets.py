"""The FilterSets share per class what is the same for every request (the form class,
the filters' settings) and keep per FilterSet what is the request's own: the filters'
parent and bound methods, the form and its fields (letters.filters.ArchiveFilterSet)."""

import pytest
from django.http import QueryDict

from letters import filters
from letters.models import Letter

FILTERSETS = [
    filters.LetterFilter,
    filters.PersonFilter,
    filters.OrganisationFilter,
    filters.PlaceFilter,
    filters.OfficeFilter,
]


def letters(filterset) -> set[str]:
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs.values_list("identifier", flat=True))


def place_of_each(keys) -> dict[str, set[str]]:
    return {
        key: set(
            Letter.objects.published()
            .filter(place__key=key)
            .values_list("identifier", flat=True)
        )
        for key in keys
    }


@pytest.mark.django_db
def test_filtersets_made_together_each_filter_with_their_own_values(seeded):
    """Both FilterSets exist before either filters: a filter method that ran on the
    other FilterSet (a parent shared through the class's filters) would read the
    other's values and resolved ids."""
    keys = ["strasbourg", "brussels"]
    expected = place_of_each(keys)
    assert all(expected.values())
    assert expected["strasbourg"] != expected["brussels"]
    published = Letter.objects.published().order_by("date_earliest", "identifier")
    first, second = (
        filters.LetterFilter(QueryDict(f"place={key}"), queryset=published)
        for key in keys
    )
    assert letters(first) == expected["strasbourg"]
    assert letters(second) == expected["brussels"]
    dated = filters.LetterFilter(QueryDict("date_after=2016-01-01"), queryset=published)
    undated = filters.LetterFilter(QueryDict(""), queryset=published)
    assert letters(undated) == set(published.values_list("identifier", flat=True))
    assert letters(dated) == set(
        published.filter(date_latest__gte="2016-01-01").values_list(
            "identifier", flat=True
        )
    )


@pytest.mark.parametrize("filterset_class", FILTERSETS)
def test_each_filterset_has_its_own_filters_and_leaves_the_class_alone(
    filterset_class,
):
    one, other = filterset_class(QueryDict("")), filterset_class(QueryDict(""))
    for name, base in filterset_class.base_filters.items():
        mine, theirs = one.filters[name], other.filters[name]
        assert mine is not base
        assert mine is not theirs
        assert mine.parent is one
        assert theirs.parent is other
        assert not hasattr(base, "parent")
        if isinstance(mine.filter, filters.FilterMethod):
            assert mine.filter.f is mine
            assert mine.filter.method.__self__ is one


@pytest.mark.parametrize("filterset_class", FILTERSETS)
def test_the_form_class_is_built_once_per_filterset_class(filterset_class):
    form_class = filterset_class(QueryDict("")).get_form_class()
    assert filterset_class(QueryDict("page=2")).get_form_class() is form_class
    assert list(form_class.base_fields) == list(filterset_class.base_filters)
    others = [c for c in FILTERSETS if c is not filterset_class]
    assert all(c(QueryDict("")).get_form_class() is not form_class for c in others)


def test_a_form_changed_by_one_request_leaves_the_next_requests_form_alone():
    first = filters.LetterFilter(QueryDict("kind=letter"))
    shared = first.form.fields["language"].choices
    assert isinstance(shared, tuple)  # shared by every form: it cannot be changed
    assert filters.LetterFilter().form.fields["language"].choices is shared
    first.form.fields["kind"].choices = []
    first.form.fields["kind"].required = True
    assert not first.is_valid()
    second = filters.LetterFilter(QueryDict("kind=letter"))
    assert second.is_valid(), second.errors
    assert second.form.cleaned_data["kind"] == ["letter"]
    wrong = filters.LetterFilter(QueryDict("kind=poem"))
    assert not wrong.is_valid()
    assert "kind" in wrong.errors
    assert filters.LetterFilter(QueryDict("kind=letter")).is_valid()
