"""URL map: the API under /v1/, the browse pages at /, login at /accounts/, the admin at /admin/;
/healthz, /readyz and /metrics for the load balancer and Prometheus (backups.health)."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from backups import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("v1/", include("backups.api.urls")),
    path("", include("backups.ui.urls")),
]

handler400 = "backups.api.errors.handler400"
handler403 = "backups.api.errors.handler403"
handler404 = "backups.api.errors.handler404"
handler500 = "backups.api.errors.handler500"
