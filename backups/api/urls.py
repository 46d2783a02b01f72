"""API URLs under /v1/: the router's checkpoint item routes, the OpenAPI description, a CSBS 404 for the rest.

A trailing slash is accepted everywhere, without a redirect; ``{project_id}`` follows the
project-id rule of ``backups.tenancy``.
"""
from django.urls import re_path
from rest_framework.routers import SimpleRouter

from backups.tenancy import PROJECT_ID_PATTERN

from . import openapi
from .errors import not_found
from .viewsets import CheckpointItemViewSet


class OptionalSlashRouter(SimpleRouter):
    """``…/checkpoint_items`` and ``…/checkpoint_items/`` are the same route (no redirect)."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register(
    rf"(?P<project_id>{PROJECT_ID_PATTERN})/checkpoint_items", CheckpointItemViewSet, "checkpoint-item"
)

urlpatterns = [
    *router.urls,
    re_path(r"^openapi\.json$", openapi.OpenAPIView.as_view(), name="openapi"),
    re_path(r"^docs/?$", openapi.DocsView.as_view(), name="api-docs"),
    re_path(r"", not_found),  # last: every other path under /v1/ is a CSBS 404
]
