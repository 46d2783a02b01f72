"""Coverage page URLs, mounted at /coverage/: the report, one resource, the CSV."""
from django.urls import path

from . import pages

app_name = "coverage"
urlpatterns = [
    path("", pages.coverage_page, name="report"),
    path("resource/", pages.coverage_resource, name="resource"),
    path("export.csv", pages.coverage_export, name="export"),
]
