"""The coverage report's query string, read by each parameter's owner, for the API, the page and the CSV.

Owners, one per parameter:

* the list's ``CheckpointItemFilterSet`` — the filters that apply to a resource's backups
  (``FILTERS``: ``az``, ``resource_id``, ``resource_name``, ``resource_type``) and ``all_tenants``,
  with the list's types, rules and messages;
* ``Paging.from_params`` (``backups.listing.keyset``) — ``limit`` (1–1000) and ``offset``;
  ``marker`` is not offered (a row is a resource, not an item), so it is an unknown parameter here;
* ``CoverageForm`` below — the report's own: ``days`` (1–3650, default 7), ``failures`` (1–1000,
  default 3), ``as_of`` (an instant read like ``end_time``: ISO 8601, a date alone refused as
  ambiguous; default now) and ``category`` (``any``, ``unprotected``, ``failing``,
  ``unreplicated``, ``all``; default ``any``).

As in the list (``backups.listing.parameters.ListParameters``): an empty value is the same as leaving the
parameter out, the last of repeated values counts, unknown parameters are reported first and
alone, otherwise every invalid parameter is named — "Invalid NAME 'VALUE': rule" — joined by ``; ``.
"""

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.http import QueryDict

from ..listing import keyset
from ..listing.filtersets import CheckpointItemFilterSet, EnumField, TimestampField
from ..listing.keyset import PaginationError, Paging
from ..listing.parameters import unknown_parameter_message
from .report import ANY, CATEGORY_CHOICES, CoverageQuery

FILTERS = ("az", "resource_id", "resource_name", "resource_type", "all_tenants")
PAGING = ("limit", "offset")
DEFAULT_DAYS = 7
MAX_DAYS = 3650
DEFAULT_FAILURES = 3
MAX_FAILURES = 1000


class BoundedIntegerField(forms.Field):
    """An integer in ``[low, high]``, with pagination's wording; empty means the default."""

    def __init__(self, *, low, high, default, **kwargs):
        self.low, self.high, self.default = low, high, default
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        if value in (None, ""):
            return self.default
        digits = value.isascii() and value.isdigit() and len(value) <= 20
        if not digits or not self.low <= int(value) <= self.high:
            raise forms.ValidationError(f"must be an integer from {self.low} to {self.high}")
        return int(value)


class CoverageForm(forms.Form):
    days = BoundedIntegerField(low=1, high=MAX_DAYS, default=DEFAULT_DAYS, label="No good backup for (days)")
    failures = BoundedIntegerField(
        low=1, high=MAX_FAILURES, default=DEFAULT_FAILURES, label="Failing in a row (times)"
    )
    as_of = TimestampField(required=False, label="As of (UTC)")
    category = EnumField(values=CATEGORY_CHOICES, required=False, label="Show")


#: The report's own parameters, in the order the page's form shows them.
OWN = tuple(CoverageForm.base_fields)


def _last_values(params, names):
    """A ``QueryDict`` of ``names`` only, each with its last value (the list's rule)."""
    selected = QueryDict(mutable=True)
    for name in names:
        if name in params:
            selected[name] = params.get(name)
    return selected


@dataclass
class CoverageParameters:
    params: object
    filterset: CheckpointItemFilterSet
    form: CoverageForm
    paging: Paging
    known: frozenset
    unknown: list
    errors: dict

    @classmethod
    def read(cls, params, *, also_known=(), default_limit=keyset.DEFAULT_LIMIT):
        """Ask every owner about ``params`` (a ``QueryDict``); never raises."""
        known = frozenset({*FILTERS, *OWN, *PAGING, *also_known})
        unknown = sorted(name for name in params if name not in known)
        filterset = CheckpointItemFilterSet(_last_values(params, FILTERS))
        form = CoverageForm(_last_values(params, OWN))
        errors = {}
        if not filterset.is_valid():
            errors.update(filterset.errors_by_parameter())
        if not form.is_valid():
            errors.update({name: " ".join(messages) for name, messages in form.errors.items()})
        paging = Paging(limit=default_limit)
        try:
            paging = Paging.from_params(_last_values(params, PAGING), default_limit=default_limit)
        except PaginationError as error:
            errors[error.parameter] = str(error)
        return cls(params, filterset, form, paging, known, unknown, errors)

    @property
    def valid(self):
        return not self.unknown and not self.errors

    @property
    def all_tenants(self):
        return self.valid and bool(self.filterset.form.cleaned_data.get("all_tenants"))

    def value(self, name):
        """The cleaned value of one of the report's own parameters (its default when absent)."""
        return self.form.cleaned_data.get(name) if self.valid else None

    def query(self, scope, now, *, paged=True):
        """The ``CoverageQuery`` over ``scope`` (the caller's items); only when ``valid``."""
        cleaned = self.form.cleaned_data
        return CoverageQuery(
            items=self.filterset.filter_queryset(scope),
            as_of=(cleaned["as_of"] or now).astimezone(dt.timezone.utc),
            days=cleaned["days"],
            failures=cleaned["failures"],
            category=cleaned["category"] or ANY,
            limit=self.paging.limit if paged else None,
            offset=self.paging.offset if paged else 0,
        )

    def unknown_message(self):
        return unknown_parameter_message(self.unknown, self.known)

    def problem(self):
        """The API's one 400 message, or ``None``: the unknown parameters first and alone."""
        if self.unknown:
            return self.unknown_message()
        return "; ".join(self.error_messages()) if self.errors else None

    def error_messages(self):
        """Every invalid parameter's message, naming the parameter and its value."""
        return [
            message if name in PAGING else f"Invalid {name} '{self.params.get(name, '')[:40]}': {message}"
            for name, message in self.errors.items()
        ]
