"""The querysets behind the API and the pages: what a caller may see, and one item.

Items a sync source no longer lists (``gone_at`` set, ``backups.sync``) are out of the API's
answers; the browse pages ask for them too (``include_gone``) and mark them.

The API's three reads (a page, a count, one item) are built here by the ORM from
``checkpoint_item_scope`` and the FilterSet, and compiled once per query shape: later requests of
the same shape run that SQL with their own values (``backups.listing.statements``, which says how
the SQL is checked to be the ORM's own), on the database the router chooses for the request.
"""
from dataclasses import dataclass, replace

from django_filters.constants import EMPTY_VALUES

from backups.models import CheckpointItem, is_item_id

from . import keyset
from .statements import StatementCache, count_sql, fetch_one

#: The compiled statements of this process: the API's pages, counts and items.
PAGES = StatementCache(CheckpointItem)
COUNTS = StatementCache(CheckpointItem, compile=count_sql)
DOCUMENTS = StatementCache(CheckpointItem)


def checkpoint_item_scope(project_id, *, all_tenants=False, include_gone=False):
    """The items a request may see: the path's project, or every project with ``all_tenants``."""
    items = CheckpointItem.objects.all()
    if not include_gone:
        items = items.filter(gone_at__isnull=True)
    if all_tenants:
        return items
    return items.filter(project_id=project_id)


@dataclass(frozen=True)
class ItemQuery:
    """An API list or count request's query before it is built: its scope and its filters' values.

    The view's ``get_queryset`` (the scope) and filter backend (``filtered``: the request's
    validated ``CheckpointItemFilterSet``) hand it on to the paginator or the count as DRF hands on
    a queryset. The ORM builds it (``checkpoint_item_scope``, then the FilterSet's
    ``filter_queryset``) from ``inputs()`` for the first request of a shape only; later ones reuse
    its compiled SQL with their own inputs.
    """

    project_id: str
    all_tenants: bool = False
    filterset: object = None

    def filtered(self, filterset):
        return replace(self, filterset=filterset)

    def inputs(self):
        """What the query is built of (``backups.listing.statements``); a filter given: ``filter.<name>``."""
        cleaned = self.filterset.form.cleaned_data if self.filterset is not None else {}
        filters = {f"filter.{name}": value for name, value in cleaned.items() if value not in EMPTY_VALUES}
        return {"project_id": self.project_id, "all_tenants": self.all_tenants, **filters}

    def page(self, ordering, paging, *, fetch):
        """The keyset page (``backups.listing.keyset``); ``fetch(statement)`` reads its rows."""
        statement = self.page_statement(ordering, paging)
        rows = [] if statement is None else fetch(statement)  # None: a query that matches nothing
        if not rows and paging.marker is not None:
            keyset.refuse_unknown_marker(self._scope(self.inputs()), paging.marker)
        return keyset.Page(rows=rows, limit=paging.limit)

    def page_statement(self, ordering, paging):
        """The ``Statement`` of the page: ``keyset.page_queryset`` of the filtered scope, sliced."""
        inputs = {**self.inputs(), "sort": ordering, "marker": paging.marker}
        limits = (paging.offset, paging.offset + paging.limit)
        return PAGES.statement(inputs, self._page_queryset, limits=limits)

    def count(self):
        """The number of items the filters select (paging ignored)."""
        statement = self.count_statement()
        if statement is None:  # a query the count cannot compile apart: the ORM counts
            return self._queryset(self.inputs()).count()
        return fetch_one(statement)[0]

    def count_statement(self):
        return COUNTS.statement(self.inputs(), self._queryset)

    def _scope(self, inputs):
        return checkpoint_item_scope(inputs["project_id"], all_tenants=inputs["all_tenants"])

    def _queryset(self, inputs):
        if self.filterset is None:
            return self._scope(inputs)
        cleaned = {name: inputs.get(f"filter.{name}") for name in self.filterset.form.cleaned_data}
        return self.filterset.filter_queryset_with(self._scope(inputs), cleaned)

    def _page_queryset(self, inputs):
        scope = self._scope(inputs)
        return keyset.page_queryset(self._queryset(inputs), scope, inputs["sort"], inputs["marker"])


def checkpoint_item_document(project_id, item_id):
    """The stored API JSON of one item of ``project_id``, or ``None`` (other projects, gone items)."""
    if not is_item_id(item_id):
        return None
    statement = DOCUMENTS.statement({"project_id": project_id, "item_id": item_id}, _document_queryset)
    row = None if statement is None else fetch_one(statement)
    return None if row is None else row[0]


def _document_queryset(inputs):
    # [:1], not .first(): an id is unique, so no ORDER BY (first() would add the model's ordering).
    found = checkpoint_item_scope(inputs["project_id"]).filter(pk=inputs["item_id"])
    return found.values_list("document", flat=True)[:1]


def checkpoint_item_with_children(scope, item_id):
    """One item of ``scope`` with its children prefetched (3 queries), or ``None``."""
    if not is_item_id(item_id):
        return None
    return scope.filter(pk=item_id).prefetch_related("volume_backups", "replication_records").first()
