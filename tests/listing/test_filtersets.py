"""CheckpointItemFilterSet on its own, without HTTP: values, empties, and the messages of errors."""
import pytest
from django.http import QueryDict

from backups.listing.filtersets import CheckpointItemFilterSet
from backups.models import CheckpointItem
from tests.factories import create_items, item_dict

pytestmark = pytest.mark.django_db


def run(query):
    filterset = CheckpointItemFilterSet(QueryDict(query), queryset=CheckpointItem.objects.all())
    return filterset


def test_empty_values_mean_not_given():
    create_items("p", item_dict(id="x"))
    filterset = run("status=&name=&dec=&start_time=&all_tenants=")
    assert filterset.is_valid()
    assert list(filterset.qs.values_list("id", flat=True)) == ["x"]


def test_every_declared_parameter_is_an_api_parameter():
    assert CheckpointItemFilterSet().parameter_names == {
        "status", "name", "az", "resource_id", "resource_name", "start_time", "end_time", "image_type",
        "policy_id", "ip", "checkpoint_id", "resource_type", "dec", "all_tenants",
    }


@pytest.mark.parametrize(
    "query, errors",
    [
        ("status=nope", {"status": "must be one of waiting_protect, protecting, available, waiting_restore, "
                                   "restoring, error, waiting_delete, deleting, deleted"}),
        ("dec=2", {"dec": "must be true, false, 1 or 0"}),
        ("end_time=2020-01-01", {"end_time": "a date alone is ambiguous: give a time too, an ISO 8601 time such "
                                             "as 2017-04-18T01:21:52.701973 (Z or ±HH:MM allowed)"}),
        ("start_time=2020-01-02T00:00&end_time=2020-01-01T00:00", {"start_time": "must not be later than end_time"}),
        ("resource_id=" + "r" * 129, {"resource_id": "must be at most 128 characters long"}),
    ],
)
def test_invalid_values_are_reported_per_parameter(query, errors):
    filterset = run(query)
    assert not filterset.is_valid()
    assert filterset.errors_by_parameter() == errors


def test_all_tenants_is_validated_but_does_not_filter():
    create_items("p", item_dict(id="x"))
    create_items("q", item_dict(id="y"))
    filterset = run("all_tenants=true")
    assert filterset.is_valid() and filterset.form.cleaned_data["all_tenants"] is True
    assert filterset.qs.count() == 2
