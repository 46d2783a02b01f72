"""``CheckpointItemViewSet``: the three endpoints of API.md, as one DRF ViewSet on a router.

A request walks: authentication (401) → ``ProjectPermission``, the path's project (403) → the
query string, ``ListParameters`` (400; a valid query string is read once per process,
``ParameterMemory``) → ``all_tenants`` (403) → ``get_queryset`` (the scope) →
``CheckpointItemFilterBackend`` (the FilterSet) → ``MarkerPagination`` (sort, keyset page) → the
stored documents joined into the body (``backups.api.responses``). The scope and the filters are an
``ItemQuery`` (``backups.listing.selectors``): the ORM builds and compiles its SQL on the first
request of each query shape, and later requests run that SQL with their own values. Only GET and
HEAD are routed: anything else, OPTIONS included, is 405 CSBS.9405 with ``Allow: GET, HEAD``.
"""
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.viewsets import GenericViewSet

from backups.listing.parameters import API_PARAMETERS, unknown_parameter_message
from backups.listing.selectors import ItemQuery, checkpoint_item_document
from backups.models import CheckpointItem
from backups.sync.freshness import with_data_as_of

from .errors import InvalidParameter, ItemNotFound
from .filters import CheckpointItemFilterBackend
from .openapi import count_schema, detail_schema, list_schema
from .pagination import MarkerPagination
from .permissions import ProjectPermission, require_all_tenants
from .responses import checkpoint_item_response, count_response


class JSONOnlyNegotiation(BaseContentNegotiation):
    """Always JSON, whatever ``Accept`` says: CSBS clients send ``*/*`` or nothing."""

    def select_parser(self, request, parsers):
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CheckpointItemViewSet(GenericViewSet):
    """``/v1/{project_id}/checkpoint_items``: list, ``count`` and one item (``retrieve``)."""

    permission_classes = [ProjectPermission]
    content_negotiation_class = JSONOnlyNegotiation
    filter_backends = [CheckpointItemFilterBackend]
    pagination_class = MarkerPagination
    http_method_names = ["get", "head"]
    lookup_url_kwarg = "item_id"
    lookup_value_regex = "[^/]+"

    def initial(self, request, *args, **kwargs):
        """After authentication and the path's project: the parameters (400), then ``all_tenants`` (403)."""
        super().initial(request, *args, **kwargs)
        query_string = request.META.get("QUERY_STRING", "")
        if self.action == "retrieve":
            if query_string and request.query_params:  # no query string: no QueryDict to build
                raise InvalidParameter(unknown_parameter_message(request.query_params))
            return
        self.parameters = API_PARAMETERS.read(
            query_string, lambda: request.query_params, validate_paging=self.action == "list"
        )
        if problem := self.parameters.problem():
            raise InvalidParameter(problem)
        require_all_tenants(request, self.parameters.all_tenants)

    def get_queryset(self):
        """The scope as an ``ItemQuery``: built by the ORM once per query shape, not per request."""
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular describing the API
            return CheckpointItem.objects.none()
        return ItemQuery(self.kwargs["project_id"], all_tenants=self.parameters.all_tenants)

    def finalize_response(self, request, response, *args, **kwargs):
        """A 200 answer says how old the data is (``X-Data-As-Of``, ``backups.sync.freshness``)."""
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code == 200 and "project_id" in kwargs:
            parameters = getattr(self, "parameters", None)
            all_tenants = self.action != "retrieve" and parameters is not None and parameters.all_tenants
            with_data_as_of(response, kwargs["project_id"], all_tenants=all_tenants)
        return response

    @list_schema
    def list(self, request, project_id):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(page)

    @count_schema
    @action(detail=False, url_path="count")
    def count(self, request, project_id):
        """The list's filters, paging ignored."""
        return count_response(self.filter_queryset(self.get_queryset()).count())

    @detail_schema
    def retrieve(self, request, project_id, item_id):
        """Takes no parameters."""
        document = checkpoint_item_document(project_id, item_id)
        if document is None:
            raise ItemNotFound(item_id)
        return checkpoint_item_response(document)
