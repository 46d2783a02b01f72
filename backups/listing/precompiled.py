"""``PrecompiledFilterSet``: a django-filter ``FilterSet`` whose per-request cost is parsing, not building.

A plain ``FilterSet`` builds its machinery again for every request: it deep-copies each declared
filter, creates a new ``Form`` class from them (a form field per filter), and the form
deep-copies every field with its widget. For a list of 14 filter parameters that is about a
millisecond per request before any value is read, a fixed cost the database does not have.

This base class builds that machinery once per class and keeps per request only what is per
request: the bound data, the cleaned values and the errors.

* The form class is built once (from the filters' form fields) and reused.
* Its fields are shared by every form instance instead of deep-copied: a request only calls
  ``field.clean(value)``, which does not change a field. (Nothing here renders or alters the
  form's fields; the browse pages read their labels.)
* Each filter is copied shallowly per instance, as django-filter's copy is there for: so that each
  FilterSet has its own ``parent`` (the ``method=`` filters call the FilterSet's methods). A
  filter's ``FilterMethod`` is re-bound to its copy.

Validation, messages, the form's ``clean()`` and ``filter_queryset`` are django-filter's and
Django's, unchanged. ``filter_queryset_with`` runs that same ``filter_queryset`` on other values
of the same filters, without changing the FilterSet (the API compiles a query's SQL from stand-in
values once per shape, ``backups.listing.statements``).
"""
import copy

import django_filters


def _copy_filter(filter_):
    clone = copy.copy(filter_)
    if filter_.method is not None:
        clone.method = filter_.method  # the setter binds a new FilterMethod to the clone
    return clone


class _CopiedShallowly(dict):
    """``base_filters`` whose per-instance "deep copy" copies each filter shallowly."""

    def __deepcopy__(self, memo):
        return {name: _copy_filter(filter_) for name, filter_ in self.items()}


class _SharedFields(dict):
    """A form class's ``base_fields``, handed to each form as they are (fields are only read)."""

    def __deepcopy__(self, memo):
        return dict(self)


class PrecompiledFilterSet(django_filters.FilterSet):
    def __init__(self, *args, **kwargs):
        cls = type(self)
        if not isinstance(cls.__dict__.get("base_filters"), _CopiedShallowly):
            cls.base_filters = _CopiedShallowly(cls.base_filters)
        super().__init__(*args, **kwargs)

    def get_form_class(self):
        cls = type(self)
        form_class = cls.__dict__.get("_precompiled_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            form_class.base_fields = _SharedFields(form_class.base_fields)
            cls._precompiled_form_class = form_class
        return form_class

    def filter_queryset_with(self, queryset, cleaned_data):
        """``filter_queryset`` with ``cleaned_data`` in place of the form's (the filters, their order).

        It runs on a shallow copy whose form is a shallow copy holding ``cleaned_data``: this
        FilterSet and its form are left as they are, so that one validated FilterSet may serve
        several requests at once (``backups.listing.parameters.ParameterMemory``, threaded workers).
        """
        form = copy.copy(self.form)
        form.cleaned_data = cleaned_data
        stand_in = copy.copy(self)
        stand_in._form = form
        return stand_in.filter_queryset(queryset)
