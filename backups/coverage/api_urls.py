"""The service's own API extensions, mounted at /ext/v1/ (CSBS's paths stay under /v1/).

A trailing slash is accepted, without a redirect; every other path under /ext/ is a CSBS 404.
"""
from django.urls import re_path

from ..api.errors import not_found
from ..tenancy import PROJECT_ID_PATTERN
from .api import CoverageView

PROJECT = rf"(?P<project_id>{PROJECT_ID_PATTERN})"

urlpatterns = [
    re_path(rf"^{PROJECT}/coverage/?$", CoverageView.as_view(), name="coverage-report"),
    re_path(r"", not_found),  # last
]
