"""URL map: the API under /v1/, the browse pages at /, the admin at /admin/."""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("v1/", include("backups.api.urls")),
    path("", include("backups.urls")),
]
