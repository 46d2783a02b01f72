"""``MarkerPagination``: the DRF pagination class of the list, over the one keyset pager.

The rules of ``limit``, ``marker`` and ``offset`` live in ``backups.listing.keyset`` (their reader
and the pager); this class wires them into DRF: ``paginate_queryset`` pages the request's
``ItemQuery`` (``backups.listing.selectors``: its page query compiled once per shape, the marker
looked up in the view's scope), ``get_paginated_response`` joins the page's stored documents into
the envelope with its ``Link: rel="next"``, and ``get_schema_operation_parameters`` is the OpenAPI
description of the three parameters.
"""
from rest_framework.pagination import BasePagination

from backups.listing import keyset
from backups.models import ID_LENGTH

from .documents import fetch_documents
from .responses import checkpoint_items_response

#: Appended to each description where the parameters are accepted and ignored (the count).
IGNORED_NOTE = " Accepted and ignored by the count."


def paging_parameters(note=""):
    """OpenAPI 3 parameter objects (dicts) of ``limit``, ``marker`` and ``offset``."""
    return [
        {
            "name": "limit",
            "in": "query",
            "description": f"Page size, 1–{keyset.MAX_LIMIT}; larger values are refused (400), never capped."
            + note,
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": keyset.MAX_LIMIT,
                "default": keyset.DEFAULT_LIMIT,
            },
        },
        {
            "name": "marker",
            "in": "query",
            "description": "Id of the last item of the previous page: the page starts right after it in the "
            "current sort order. It must be an item the caller may see; unknown: 400." + note,
            "schema": {"type": "string", "maxLength": ID_LENGTH, "pattern": r"^[^\u0000]*$"},
        },
        {
            "name": "offset",
            "in": "query",
            "description": "Skips that many items after the marker position (or from the start)." + note,
            "schema": {"type": "integer", "minimum": 0, "maximum": keyset.MAX_OFFSET, "default": 0},
        },
    ]


class MarkerPagination(BasePagination):
    """Keyset paging by ``marker`` (``backups.listing.keyset``); bodies are the stored documents."""

    def paginate_queryset(self, query, request, view=None):
        """``query``: the view's ``ItemQuery`` (the scope and the filters, not built yet)."""
        parameters = view.parameters
        self.request = request
        self.next_query = parameters.next_query
        self.page = query.page(parameters.ordering, parameters.paging, fetch=fetch_documents)
        return [row["document"] for row in self.page.rows]

    def get_paginated_response(self, data):
        return checkpoint_items_response(self.request, self.page, self.next_query)

    def get_schema_operation_parameters(self, view):
        return paging_parameters(IGNORED_NOTE if getattr(view, "action", None) == "count" else "")

    def get_paginated_response_schema(self, schema):
        """The list's envelope around drf-spectacular's array of items."""
        return {
            "type": "object",
            "required": ["checkpoint_items"],
            "properties": {"checkpoint_items": schema},
            "additionalProperties": False,
        }
