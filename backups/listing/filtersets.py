"""``CheckpointItemFilterSet``: every filter parameter of the list, for the API and the browse pages.

Each parameter of API.md's table is declared here once, with its type and its rule; the browse
pages render the same FilterSet as their form, so a page URL is an API query. Rules:

* an empty value (``name=``) is the same as leaving the parameter out;
* a parameter given twice: the last value counts (``QueryDict.get``);
* strings are at most 255 characters (ids 128) and contain no NUL character;
* ``name`` and ``resource_name`` match a case-insensitive substring (Unicode case folding, the
  same on SQLite and PostgreSQL: the folded form is stored in ``*_folded`` columns);
* ``start_time``/``end_time`` bound ``created_at`` inclusively (``backups.document.timestamps`` reads them);
  a date alone is refused for ``end_time`` (API.md: ambiguous) and means midnight UTC for
  ``start_time``; ``start_time`` later than ``end_time`` is refused;
* ``dec=false`` also matches items without ``dec``;
* ``all_tenants`` is validated here with the others but does not filter: the caller's scope
  (``backups.listing.selectors.checkpoint_item_scope``) uses it after the permission check.

``errors_by_parameter()`` gives one message per invalid parameter, naming the rule.

The browse pages' quick search ``q`` (``quick_search``) is an exact id, EIP or private IP, or a
case-folded substring of the name or the resource name (the indexed ``*_folded`` columns). It has
no API equivalent (the API ANDs its filters).
"""
import django_filters
from django import forms
from django.db.models import Q

from backups import choices
from backups.document.timestamps import parse_timestamp
from backups.models import ID_LENGTH, CheckpointItem, fold

MAX_STRING_LENGTH = 255


def reject_nul(value):
    if "\x00" in value:
        raise forms.ValidationError("must not contain NUL characters")


class StringField(forms.CharField):
    def __init__(self, *, max_length=MAX_STRING_LENGTH, **kwargs):
        kwargs.setdefault("validators", []).append(reject_nul)
        kwargs.setdefault(
            "error_messages", {"max_length": f"must be at most {max_length} characters long"}
        )
        super().__init__(max_length=max_length, strip=False, **kwargs)


class StrictBooleanField(forms.Field):
    """``true``/``false``/``1``/``0`` in any case; empty means not given."""

    TRUE = frozenset({"true", "1"})
    FALSE = frozenset({"false", "0"})

    def to_python(self, value):
        if value in (None, ""):
            return None
        lowered = str(value).lower()
        if lowered in self.TRUE:
            return True
        if lowered in self.FALSE:
            return False
        raise forms.ValidationError("must be true, false, 1 or 0")


class TimestampField(forms.Field):
    def __init__(self, *, allow_date=False, **kwargs):
        self.allow_date = allow_date
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            return parse_timestamp(value, allow_date=self.allow_date)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


class EnumField(forms.Field):
    """One of a ``TextChoices``' values, with a message that lists them."""

    def __init__(self, *, values, **kwargs):
        self.values = tuple(v for v in values if v)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value not in self.values:
            raise forms.ValidationError(f"must be one of {', '.join(self.values)}")
        return value


class StringFilter(django_filters.CharFilter):
    field_class = StringField


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class TimestampFilter(django_filters.Filter):
    field_class = TimestampField


class EnumFilter(django_filters.Filter):
    field_class = EnumField


class CheckpointItemFilterSetForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_time"), cleaned.get("end_time")
        if start is not None and end is not None and start > end:
            self.add_error("start_time", "must not be later than end_time")
        return cleaned


class CheckpointItemFilterSet(django_filters.FilterSet):
    status = EnumFilter(values=choices.ItemStatus.values, label="Status")
    name = StringFilter(method="filter_name", label="Name contains")
    az = StringFilter(field_name="resource_az", max_length=64, label="AZ")
    resource_id = StringFilter(max_length=ID_LENGTH, label="Resource ID")
    resource_name = StringFilter(method="filter_resource_name", label="Resource name contains")
    start_time = TimestampFilter(
        field_name="created_at", lookup_expr="gte", allow_date=True, label="Created from"
    )
    end_time = TimestampFilter(field_name="created_at", lookup_expr="lte", label="Created until")
    image_type = EnumFilter(values=choices.ImageType.values, label="Image type")
    policy_id = StringFilter(max_length=ID_LENGTH, label="Policy ID")
    ip = StringFilter(method="filter_ip", max_length=64, label="IP (EIP or private)")
    checkpoint_id = StringFilter(max_length=ID_LENGTH, label="Checkpoint ID")
    resource_type = StringFilter(max_length=64, label="Resource type")
    dec = StrictBooleanFilter(method="filter_dec", label="Dedicated backup (DEC)")
    all_tenants = StrictBooleanFilter(method="filter_all_tenants", label="All projects")

    class Meta:
        model = CheckpointItem
        fields = []
        form = CheckpointItemFilterSetForm

    @property
    def parameter_names(self):
        return frozenset(self.filters)

    def errors_by_parameter(self):
        """``{parameter: message}`` for every invalid parameter, in declaration order."""
        return {name: " ".join(messages) for name, messages in self.errors.items()}

    def filter_name(self, queryset, name, value):
        return queryset.filter(name_folded__contains=fold(value))

    def filter_resource_name(self, queryset, name, value):
        return queryset.filter(resource_name_folded__contains=fold(value))

    def filter_ip(self, queryset, name, value):
        return queryset.filter(Q(eip=value) | Q(private_ip=value))

    def filter_dec(self, queryset, name, value):
        if value:
            return queryset.filter(dec=True)
        return queryset.filter(Q(dec=False) | Q(dec__isnull=True))

    def filter_all_tenants(self, queryset, name, value):
        return queryset


def quick_search(queryset, term):
    """``q``: exact id, EIP or private IP, or folded substring of the name or resource name."""
    folded = fold(term)
    return queryset.filter(
        Q(pk=term)
        | Q(eip=term)
        | Q(private_ip=term)
        | Q(name_folded__contains=folded)
        | Q(resource_name_folded__contains=folded)
    )
