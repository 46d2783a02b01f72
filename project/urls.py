"""URL map: the API under /v1/ and its extensions under /ext/v1/, the browse pages at / and /coverage/,
login at /accounts/, the admin at /admin/; /healthz, /readyz and /metrics for the load balancer and
Prometheus (backups.health)."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from backups import health
from backups.api.errors import not_found

urlpatterns = [
    # First: most requests are the API's, and the resolver tries patterns in order (no other prefix
    # overlaps these two, so the order changes no match, only how many patterns a request is tried on).
    path("v1/", include("backups.api.urls")),
    path("ext/v1/", include("backups.coverage.api_urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    re_path(r"^ext/", not_found),  # the rest of the extension prefix: CSBS 404s too
    path("coverage/", include("backups.coverage.urls")),
    path("", include("backups.ui.urls")),
]

handler400 = "backups.api.errors.handler400"
handler403 = "backups.api.errors.handler403"
handler404 = "backups.api.errors.handler404"
handler500 = "backups.api.errors.handler500"
