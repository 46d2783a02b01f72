"""The peer's list and count: ``ListAPIView``, django-filter, ``LimitOffsetPagination``, prefetched children.

It reuses what any implementation of this API needs and has no reason to differ on: the project's
FilterSet (django-filter), its ``sort`` grammar and keyset condition (``backups.listing.ordering``, for
``marker``), its token authentication and tenancy permission. What it does as most DRF code does:
serializes model instances with nested ``ModelSerializer``s, prefetches the children, and pages
with ``LimitOffsetPagination`` (which counts the rows for every page).
"""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

from backups.api.permissions import ProjectPermission, require_all_tenants
from backups.listing.filtersets import CheckpointItemFilterSet
from backups.listing.ordering import Ordering
from backups.models import CheckpointItem

from .serializers import CheckpointItemSerializer


def _all_tenants(request):
    return request.query_params.get("all_tenants", "").lower() in ("true", "1")


class MarkerLimitOffsetPagination(LimitOffsetPagination):
    """``LimitOffsetPagination``, plus ``marker``: the page starts after that item in the sort order."""

    default_limit = 1000
    max_limit = 1000

    def paginate_queryset(self, queryset, request, view=None):
        marker = request.query_params.get("marker")
        if marker:
            ordering = view.ordering
            scope = view.scope()
            values = (
                scope.filter(pk=marker).annotate(**ordering.aliases()).values(*ordering.aliases()).first()
            )
            queryset = queryset.filter(ordering.after(values))
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        return Response({"checkpoint_items": data})


class PeerListView(generics.ListAPIView):
    serializer_class = CheckpointItemSerializer
    permission_classes = [ProjectPermission]
    filter_backends = [DjangoFilterBackend]
    filterset_class = CheckpointItemFilterSet
    pagination_class = MarkerLimitOffsetPagination

    def scope(self):
        if _all_tenants(self.request):
            return CheckpointItem.objects.all()
        return CheckpointItem.objects.filter(project_id=self.kwargs["project_id"])

    def get_queryset(self):
        require_all_tenants(self.request, _all_tenants(self.request))
        self.ordering = Ordering.parse(self.request.query_params.get("sort"))
        queryset = self.scope().prefetch_related("volume_backups", "replication_records")
        return self.ordering.apply(queryset)


class PeerCountView(generics.GenericAPIView):
    permission_classes = [ProjectPermission]
    filter_backends = [DjangoFilterBackend]
    filterset_class = CheckpointItemFilterSet

    def get_queryset(self):
        require_all_tenants(self.request, _all_tenants(self.request))
        if _all_tenants(self.request):
            return CheckpointItem.objects.all()
        return CheckpointItem.objects.filter(project_id=self.kwargs["project_id"])

    def get(self, request, project_id):
        return Response({"count": self.filter_queryset(self.get_queryset()).count()})
