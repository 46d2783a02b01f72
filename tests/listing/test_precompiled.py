"""PrecompiledFilterSet: built once per class, yet every request's filters, values and errors are its own."""
import pytest
from django.http import QueryDict

from backups.listing.filtersets import CheckpointItemFilterSet
from backups.models import CheckpointItem
from tests.factories import create_items, item_dict


def filterset(query):
    return CheckpointItemFilterSet(QueryDict(query), queryset=CheckpointItem.objects.all())


def test_each_filterset_has_its_own_filters_whose_methods_are_its_own():
    first, second = filterset("name=a"), filterset("name=b")
    assert first.filters["name"] is not second.filters["name"]
    assert first.filters["name"].parent is first and second.filters["name"].parent is second
    assert first.filters["name"].filter.method.__self__ is first  # method="filter_name", bound to first


def test_the_form_class_is_built_once_and_its_fields_are_shared():
    first, second = filterset("status=error"), filterset("status=available")
    assert type(first.form) is type(second.form)
    assert first.form.fields["status"] is second.form.fields["status"]


def test_an_invalid_request_leaves_no_error_or_value_to_the_next():
    invalid = filterset("status=nope&start_time=2024-05-02&end_time=2024-05-01T00:00:00")
    valid = filterset("status=error")
    assert not invalid.is_valid()
    assert list(invalid.errors_by_parameter()) == ["status", "start_time"]
    assert invalid.errors_by_parameter()["start_time"] == "must not be later than end_time"
    assert valid.is_valid() and valid.errors_by_parameter() == {}
    assert (valid.form.cleaned_data["status"], valid.form.cleaned_data["start_time"]) == ("error", None)


@pytest.mark.django_db
def test_two_filtersets_filter_by_their_own_values():
    create_items("p", item_dict(id="a", name="alpha"), item_dict(id="b", name="beta"))
    first, second = filterset("name=ALP"), filterset("name=bet")
    assert first.is_valid() and second.is_valid()
    assert list(first.qs.values_list("id", flat=True)) == ["a"]
    assert list(second.qs.values_list("id", flat=True)) == ["b"]
