"""``CheckpointItemFilterBackend``: the DRF filter backend that applies the shared FilterSet.

The parameters are read once per request (``backups.listing.parameters.ListParameters``, in
``CheckpointItemViewSet.initial``); this backend applies their ``CheckpointItemFilterSet`` to the
view's scope, exactly as the browse pages do. The filters' OpenAPI description is derived from the
same FilterSet in ``backups.api.openapi``.
"""
from rest_framework.filters import BaseFilterBackend


class CheckpointItemFilterBackend(BaseFilterBackend):
    def filter_queryset(self, request, queryset, view):
        return view.parameters.filter(queryset)
