"""The three endpoints of API.md. Each view only wires: query → scope → filters → page → body."""
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.views import APIView

from ..selectors import checkpoint_item_document, checkpoint_item_scope
from ..sync.freshness import with_data_as_of
from .errors import InvalidParameter, ItemNotFound
from .permissions import ProjectPermission, require_all_tenants
from .query import ListQuery
from .schema import count_schema, detail_schema, list_schema
from .serializers import checkpoint_item_response, checkpoint_items_response, count_response


class JSONOnlyNegotiation(BaseContentNegotiation):
    """Always JSON, whatever ``Accept`` says: CSBS clients send ``*/*`` or nothing."""

    def select_parser(self, request, parsers):
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CSBSView(APIView):
    permission_classes = [ProjectPermission]
    content_negotiation_class = JSONOnlyNegotiation
    http_method_names = ["get", "head"]  # anything else (OPTIONS too): 405 CSBS.9405, Allow: GET, HEAD


class CheckpointItemListView(CSBSView):
    """``GET /v1/{project_id}/checkpoint_items``"""

    @list_schema
    def get(self, request, project_id):
        query = ListQuery.from_params(request.query_params)
        require_all_tenants(request, query.all_tenants)
        scope = checkpoint_item_scope(project_id, all_tenants=query.all_tenants)
        page = query.pagination.page(query.filter(scope), scope, query.ordering)
        response = checkpoint_items_response(request, page)
        return with_data_as_of(response, project_id, all_tenants=query.all_tenants)


class CheckpointItemCountView(CSBSView):
    """``GET /v1/{project_id}/checkpoint_items/count``: the list's filters, paging ignored."""

    @count_schema
    def get(self, request, project_id):
        query = ListQuery.from_params(request.query_params, validate_paging=False)
        require_all_tenants(request, query.all_tenants)
        scope = checkpoint_item_scope(project_id, all_tenants=query.all_tenants)
        response = count_response(query.filter(scope).count())
        return with_data_as_of(response, project_id, all_tenants=query.all_tenants)


class CheckpointItemDetailView(CSBSView):
    """``GET /v1/{project_id}/checkpoint_items/{checkpoint_item_id}``: takes no parameters."""

    @detail_schema
    def get(self, request, project_id, item_id):
        if request.query_params:
            raise InvalidParameter(
                f"Unknown parameter {', '.join(repr(k[:64]) for k in request.query_params)}: "
                "this request takes no parameters"
            )
        document = checkpoint_item_document(project_id, item_id)
        if document is None:
            raise ItemNotFound(item_id)
        return with_data_as_of(checkpoint_item_response(document), project_id)
