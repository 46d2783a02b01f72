"""``CheckpointItemFilterBackend``: the DRF filter backend that applies the shared FilterSet.

The parameters are read once per request (``backups.listing.parameters.ListParameters``, in
``CheckpointItemViewSet.initial``); this backend hands their ``CheckpointItemFilterSet`` to the
view's ``ItemQuery`` (``backups.listing.selectors``), which applies it to the scope as the browse
pages do, when its SQL is first compiled. The filters' OpenAPI description is derived from the
same FilterSet in ``backups.api.openapi``.
"""
from rest_framework.filters import BaseFilterBackend


class CheckpointItemFilterBackend(BaseFilterBackend):
    def filter_queryset(self, request, queryset, view):
        return queryset.filtered(view.parameters.filterset)
