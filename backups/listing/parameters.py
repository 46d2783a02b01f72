"""The list's query string, read by each parameter's owner, for the API and the browse pages alike.

Owners: ``backups.listing.filtersets.CheckpointItemFilterSet`` (filters and ``all_tenants``),
``backups.listing.ordering`` (``sort``), ``backups.listing.keyset`` (``limit``, ``marker``,
``offset``). ``ListParameters.read`` only asks each of them and collects what they refuse: the
parameters nobody owns (``unknown``) and one message per invalid parameter (``errors``).

* The API (``backups.api.viewsets``) turns that into one 400, ``problem()``: unknown parameters
  are reported first and alone; otherwise every invalid parameter is named, joined by ``; ``.
* The browse pages (``for_page=True``) also read their two page-only parameters, ``project`` (the
  API's path ``{project_id}``) and ``q`` (the quick search, ``filtersets.quick_search``); their
  ``limit`` defaults to 25 rows, not 1000; each message is shown beside its field, the unknown
  parameters' under ``"__all__"``.

``unknown_parameter_message`` is the one "Unknown parameter" message, also for the requests that
take no parameters (one item, the OpenAPI description).

The API reads its parameters through ``API_PARAMETERS`` (``ParameterMemory``): a valid query string
is read once per process and its ``ListParameters`` answer the next requests with the same query
string, so that a client's repeated pages and counts do not build a form each time.
"""
import threading
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import unquote_plus

from django import forms
from django.conf import settings
from django.utils.functional import SimpleLazyObject

from . import keyset
from .filtersets import CheckpointItemFilterSet, StringField, quick_search
from .keyset import PaginationError, Paging
from .ordering import Ordering, SortError

SORT_PARAMETER = "sort"
PROJECT_PARAMETER = "project"
SEARCH_PARAMETER = "q"
PAGE_ONLY_PARAMETERS = (PROJECT_PARAMETER, SEARCH_PARAMETER)
DEFAULT_PAGE_SIZE = 25


def unknown_parameter_message(names, allowed=None):
    """``Unknown parameter 'a', 'b': allowed parameters are …`` (at most five names, 64 characters each)."""
    quoted = ", ".join(f"'{name[:64]}'" for name in list(names)[:5])
    if allowed is None:
        return f"Unknown parameter {quoted}: this request takes no parameters"
    return f"Unknown parameter {quoted}: allowed parameters are {', '.join(sorted(allowed))}"


@dataclass(frozen=True)
class ListParameters:
    params: object
    filterset: CheckpointItemFilterSet
    ordering: Ordering
    paging: Paging
    known: frozenset
    unknown: list
    errors: dict
    search: str = ""
    for_page: bool = False
    #: The query string of the next page but its marker (``keyset.next_page_query``).
    next_query: str = ""

    @classmethod
    def read(cls, params, *, for_page=False, validate_paging=True):
        """Ask every owner about ``params`` (a ``QueryDict``); never raises.

        With ``validate_paging=False`` (the count) ``sort``, ``limit``, ``marker`` and ``offset``
        are accepted and their values ignored.
        """
        default_limit = _default_limit(for_page)
        filterset = CheckpointItemFilterSet(params)
        page_only = PAGE_ONLY_PARAMETERS if for_page else ()
        known = frozenset(filterset.parameter_names | {SORT_PARAMETER, *keyset.PARAMETERS, *page_only})
        unknown = sorted(name for name in params if name not in known)
        errors = {"__all__": unknown_parameter_message(unknown, known)} if for_page and unknown else {}
        errors.update(filterset.errors_by_parameter() if not filterset.is_valid() else {})
        ordering, paging = Ordering.parse(None), Paging(limit=default_limit)
        if validate_paging:
            try:
                ordering = Ordering.parse(params.get(SORT_PARAMETER))
            except SortError as error:
                errors[SORT_PARAMETER] = str(error)
            try:
                paging = Paging.from_params(params, default_limit=default_limit)
            except PaginationError as error:
                errors[error.parameter] = str(error)
        search = ""
        if for_page:
            try:
                search = StringField(required=False).clean(params.get(SEARCH_PARAMETER, ""))
            except forms.ValidationError as error:
                errors[SEARCH_PARAMETER] = " ".join(error.messages)
        next_query = keyset.next_page_query(params)
        return cls(params, filterset, ordering, paging, known, unknown, errors, search, for_page, next_query)

    def with_marker(self, marker, params):
        """These parameters for a query string that differs from theirs only in its ``marker`` (as given).

        ``params`` is a callable that returns that query string's ``QueryDict``: built only if the
        new ``params`` is read (lazily). An invalid marker makes the whole query string read, so
        that its 400 is worded as ever.
        """
        try:
            paging = self.paging.with_marker(marker)
        except PaginationError:
            return ListParameters.read(params(), for_page=self.for_page)
        # Built field by field: dataclasses.replace costs as much again, on every marker page.
        return ListParameters(
            SimpleLazyObject(params),
            self.filterset,
            self.ordering,
            paging,
            self.known,
            self.unknown,
            self.errors,
            self.search,
            self.for_page,
            self.next_query,
        )

    @property
    def valid(self):
        return not self.unknown and not self.errors

    @property
    def all_tenants(self):
        return self.valid and bool(self.filterset.form.cleaned_data.get("all_tenants"))

    @property
    def sort_given(self):
        return bool((self.params.get(SORT_PARAMETER) or "").strip())

    def filter(self, scope):
        """``scope`` narrowed by the filters (and the pages' quick search); only when ``valid``."""
        queryset = self.filterset.filter_queryset(scope)
        return quick_search(queryset, self.search) if self.search else queryset

    def cleaned_value(self, name):
        return self.filterset.form.cleaned_data.get(name) if self.valid else None

    def problem(self):
        """The API's one 400 message, or ``None``: the unknown parameters first and alone."""
        if self.unknown:
            return unknown_parameter_message(self.unknown, self.known)
        return "; ".join(self.error_messages()) if self.errors else None

    def error_messages(self):
        """Every invalid parameter's message, naming the parameter and its value."""
        return [
            f"Invalid {name} '{self.params.get(name, '')[:40]}': {message}"
            if name in self.filterset.parameter_names
            else message  # sort and paging messages already name the parameter and value
            for name, message in self.errors.items()
            if name != "__all__"
        ]

    def api_params(self):
        """The API's parameters of this page, in declaration order, empty ones left out."""
        names = [*self.filterset.filters, SORT_PARAMETER, *keyset.PARAMETERS]
        params = {name: self.params.get(name) for name in names if self.params.get(name)}
        params.setdefault("limit", str(self.paging.limit))  # the page's default is not the API's
        return params


def _default_limit(for_page):
    return DEFAULT_PAGE_SIZE if for_page else keyset.DEFAULT_LIMIT


def _split_marker(query_string):
    """``(query string without its marker pairs, the last marker's value)``, where they are plain to see.

    Plain: an ASCII query string (so that it decodes the same with or without them), whose names
    are not percent-encoded (so that no other pair is a ``marker`` in disguise), with no more pairs
    than Django reads (``DATA_UPLOAD_MAX_NUMBER_FIELDS``). The value is decoded as ``QueryDict``
    decodes it; ``None`` without a marker pair. Not plain: ``(query_string, None)``.
    """
    if "marker" not in query_string or not query_string.isascii():
        return query_string, None
    pairs = query_string.split("&")
    if len(pairs) > settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:
        return query_string, None
    names = [pair.partition("=")[0] for pair in pairs]
    if any("%" in name or "+" in name for name in names):
        return query_string, None
    markers = [pair.partition("=")[2] for pair, name in zip(pairs, names, strict=True) if name == "marker"]
    if not markers:
        return query_string, None
    rest = "&".join(pair for pair, name in zip(pairs, names, strict=True) if name != "marker")
    return rest, unquote_plus(markers[-1], encoding=settings.DEFAULT_CHARSET, errors="replace")


class ParameterMemory:
    """Valid ``ListParameters`` of the API remembered per process, by query string.

    Reading a query string (a ``QueryDict``, the FilterSet's form and its fields, ``sort``, the
    paging) is most of the Python work of a small page or a count, and clients send the same
    few query strings again and again: the same filters, page after page. What
    ``ListParameters.read`` finds depends on the query string alone: no clock, no user, no
    per-request setting; the caller's rights (``all_tenants``, the path's project) are checked on
    every request, not remembered. Nothing changes a ``ListParameters`` once read (frozen; its
    FilterSet filters other values through copies, ``PrecompiledFilterSet.filter_queryset_with``),
    so one reading may serve several requests, in several threads at once.

    * The key is the raw query string as the server received it (``QUERY_STRING``; the same
      text always decodes to the same ``QueryDict``) **without its marker**: the pages of one
      listing differ only by their marker. A request whose query string differs from the
      remembered one's only there gets the remembered reading with its own marker
      (``with_marker``: decoded as ``QueryDict`` decodes it, checked by the paging's rule, an
      invalid one refused with the usual 400; its ``QueryDict`` built only if read). Two spellings
      of the same parameters (another order, ``%41`` for ``A``) are two entries.
    * Only valid parameters are kept: an invalid query string is read, and refused, every time.
    * At most ``size`` query strings, the least recently used forgotten first; a query string
      longer than ``max_length`` characters is read every time. An entry is about 15 kB, so
      the memory stays under 4 MB per process.
    """

    def __init__(self, size=256, max_length=2048):
        self.size = size
        self.max_length = max_length
        self._remembered = OrderedDict()  # (key, validate_paging) -> (query string read, ListParameters)
        self._lock = threading.Lock()

    def read(self, query_string, params, *, validate_paging=True):
        """``ListParameters.read(params(), validate_paging=…)``, or the one remembered for ``query_string``.

        ``params`` is a callable that returns the request's ``QueryDict``: it is called only when
        the query string is not remembered as it is.
        """
        key, marker = _split_marker(query_string) if validate_paging else (query_string, None)
        with self._lock:
            entry = self._remembered.get((key, validate_paging))
            if entry is not None:
                self._remembered.move_to_end((key, validate_paging))
        if entry is not None:
            read_from, parameters = entry
            return parameters if read_from == query_string else parameters.with_marker(marker, params)
        parameters = ListParameters.read(params(), validate_paging=validate_paging)
        if parameters.valid and len(query_string) <= self.max_length:
            with self._lock:
                self._remembered[key, validate_paging] = (query_string, parameters)
                while len(self._remembered) > self.size:
                    self._remembered.popitem(last=False)
        return parameters

    def forget_all(self):
        with self._lock:
            self._remembered.clear()


#: The API's memory of parameters (``backups.api.viewsets``).
API_PARAMETERS = ParameterMemory()
