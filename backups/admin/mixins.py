"""What every backup admin page shares: change lists for big tables, JSON shown read-only, history."""
import json

from django.contrib import admin, messages
from django.contrib.admin.utils import construct_change_message
from django.contrib.admin.views.main import ChangeList
from django.utils.html import format_html

from backups.document.parse import REWRITTEN

from .forms import JsonValueField
from .paginator import CheapCountPaginator

CHANGE_VALUE_LENGTH = 80


# --- change lists on big tables ---------------------------------------------------------------


class ColumnsChangeList(ChangeList):
    """A change list that loads only ``model_admin.changelist_columns`` (no ``document``, no JSON)."""

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        columns = self.model_admin.changelist_columns
        return queryset.only(*columns) if columns else queryset


class BigTableAdminMixin:
    """Change-list settings for tables of millions of rows: no full count, no facet counts."""

    paginator = CheapCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100
    #: The columns the change list reads; empty reads them all.
    changelist_columns = ()

    def get_changelist(self, request, **kwargs):
        return ColumnsChangeList


# --- JSON shown read-only ---------------------------------------------------------------------


def pretty_json(value):
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return format_html('<pre style="margin: 0; white-space: pre-wrap">{}</pre>', text)


def json_display(model, attr):
    """A read-only display of a JSON column, pretty-printed (the stock display is one long line)."""

    @admin.display(description=model._meta.get_field(attr).verbose_name)
    def display(obj):
        value = getattr(obj, attr)
        return "-" if value is None else pretty_json(value)

    display.__name__ = f"{attr}_json"
    return display


class JsonReadOnlyMixin:
    """For a user who may only view (the Support group), show ``json_fields`` pretty-printed."""

    json_fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.json_displays = {attr: json_display(self.model, attr) for attr in self.json_fields}

    def is_view_only(self, request, obj):
        return obj is not None and not self.has_change_permission(request, obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self.is_view_only(request, obj):
            return fieldsets
        return [(name, {**options, "fields": self._swap(options["fields"])}) for name, options in fieldsets]

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if self.is_view_only(request, obj):
            fields += tuple(self.json_displays.values())
        return fields

    def _swap(self, fields):
        return [
            self._swap(field) if isinstance(field, (list, tuple)) else self.json_displays.get(field, field)
            for field in fields
        ]


# --- history ----------------------------------------------------------------------------------


def _one_line(value):
    text = " ".join(str(value).split())
    return text if len(text) <= CHANGE_VALUE_LENGTH else text[: CHANGE_VALUE_LENGTH - 1] + "…"


def describe_changes(form):
    """``['Status ("available" → "error")', …]``: each changed field with its old and new value."""
    changes = []
    for name in form.changed_data:
        field = form.fields[name]
        if isinstance(field, JsonValueField):
            old = field.describe(form.stored_values.get(name))
            new = field.describe(form.cleaned_data.get(name))
        else:
            old, new = form.initial.get(name), form.cleaned_data.get(name)
        changes.append(f"{field.label or name} ({_one_line(old)} → {_one_line(new)})")
    return changes


class ValueChangeMessageMixin:
    """History entries in the admin's own structure, each changed field with its values."""

    def construct_change_message(self, request, form, formsets, add=False):
        if add:
            return construct_change_message(form, formsets, add)
        message = []
        if form.changed_data:
            message.append({"changed": {"fields": describe_changes(form)}})
        for formset in formsets:
            forms = {id(child_form.instance): child_form for child_form in formset.initial_forms}
            for obj in formset.new_objects:
                message.append({"added": named(obj)})
            for obj, _ in formset.changed_objects:
                message.append({"changed": {**named(obj), "fields": describe_changes(forms[id(obj)])}})
            for obj in formset.deleted_objects:
                message.append({"deleted": named(obj)})
        return message


def named(obj):
    return {"name": str(obj._meta.verbose_name), "object": str(obj)}


class KeptAsGivenMessageMixin:
    """After a save, say which values the edit kept as given (the import's rule): the API returns
    them as they were typed, and filters and sorts treat them as absent."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        paths = sorted({path for path, what in getattr(form, "loose", ()) if what != REWRITTEN})
        if paths:
            self.message_user(
                request,
                "Kept as given, as the import would (their columns cannot hold them, so filters and sorts "
                f"treat them as absent): {', '.join(paths)}.",
                level=messages.WARNING,
            )
