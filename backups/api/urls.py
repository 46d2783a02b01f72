"""API URLs under /v1/. A trailing slash is accepted everywhere, without a redirect."""
from django.urls import re_path

from backups.models import PROJECT_ID_PATTERN

from . import openapi, views
from .errors import not_found

PROJECT = rf"(?P<project_id>{PROJECT_ID_PATTERN})"

urlpatterns = [
    re_path(
        rf"^{PROJECT}/checkpoint_items/?$",
        views.CheckpointItemListView.as_view(),
        name="checkpoint-item-list",
    ),
    re_path(
        rf"^{PROJECT}/checkpoint_items/count/?$",
        views.CheckpointItemCountView.as_view(),
        name="checkpoint-item-count",
    ),
    re_path(
        rf"^{PROJECT}/checkpoint_items/(?P<item_id>[^/]+)/?$",
        views.CheckpointItemDetailView.as_view(),
        name="checkpoint-item-detail",
    ),
    re_path(r"^openapi\.json$", openapi.OpenAPIView.as_view(), name="openapi"),
    re_path(r"^docs/?$", openapi.DocsView.as_view(), name="api-docs"),
    re_path(r"", not_found),  # last: every other path under /v1/ is a CSBS 404
]
